"""A replica dies mid-stream; another replica resumes the stream, nothing lost or repeated.

Each test starts its own simulator (3 replicas behind haproxy, Redis) with a slow mock LLM, starts
a chat, reads part of the SSE stream, SIGKILLs both the replica that owns the generation job and
the one serving the stream, then reconnects through haproxy.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from librechat_sim.cluster import Cluster
from librechat_sim.config import LLMConfig
from librechat_sim.description import ClusterInfo
from librechat_sim.llm import reply_tokens
from librechat_sim.processes import kill
from librechat_sim.sse import SSEEvent, SSEParser
from tests.simclient import Client, sim_config

pytestmark = pytest.mark.e2e

TOKENS = 30
PROMPT = "tell me how the replicas share a stream"


@pytest.fixture
def slow_sim(tmp_path: Path) -> Iterator[ClusterInfo]:
    config = sim_config(
        tmp_path,
        replicas=3,
        lease_ms=600,
        heartbeat_s=0.2,
        llm=LLMConfig(ttft_ms=700, tokens_per_second=15, reply_tokens=TOKENS),
    )
    with Cluster(config) as info:
        yield info


@dataclass
class Stream:
    """One SSE connection through haproxy."""

    conn: http.client.HTTPConnection
    response: http.client.HTTPResponse
    parser: SSEParser = field(default_factory=SSEParser)

    @property
    def replica(self) -> str:
        return self.response.getheader("x-sim-replica") or ""

    def events(self) -> Iterator[SSEEvent]:
        """Events until the server closes the stream or the connection breaks."""
        try:
            while line := self.response.readline():
                yield from self.parser.feed(line.decode())
        except (OSError, http.client.HTTPException):
            return
        finally:
            self.conn.close()


def open_stream(
    client: Client, stream_id: str, query: str = "", last_id: str | None = None
) -> Stream:
    """Connect, retrying while haproxy still routes to a dead replica (bounded)."""
    headers = {"Accept": "text/event-stream"} | ({"Last-Event-ID": last_id} if last_id else {})
    for _attempt in range(40):
        conn = client.connection()
        try:
            conn.request(
                "GET",
                f"/api/agents/chat/stream/{stream_id}{query}",
                headers=client.headers(headers),
            )
            response = conn.getresponse()
        except (OSError, http.client.HTTPException):
            conn.close()
            continue
        if response.status == 200:
            return Stream(conn, response)
        response.read()
        conn.close()
    raise AssertionError("the stream could not be reopened through haproxy")


def start_chat(client: Client) -> tuple[str, str]:
    response = client.request("POST", "/api/agents/chat/agents", {"text": PROMPT})
    assert response.status == 200
    return response.json()["streamId"], response.headers["x-sim-replica"]


def message_events(
    events: Iterator[SSEEvent], stop_after_deltas: int | None = None
) -> list[tuple[str, Any]]:
    """(id, data) of message events, stopping after ``stop_after_deltas`` deltas when given."""
    seen: list[tuple[str, Any]] = []
    deltas = 0
    for event in events:
        if event.comment is not None:
            seen.append(("heartbeat", None))
            continue
        data = json.loads(event.data)
        seen.append((event.id or "", data))
        deltas += data.get("event") == "on_message_delta"
        if data.get("final") or (stop_after_deltas is not None and deltas >= stop_after_deltas):
            break
    return seen


def deltas(seen: list[tuple[str, Any]]) -> list[tuple[int, str]]:
    return [
        (data["seq"], data["data"]["delta"]["content"][0]["text"])
        for _id, data in seen
        if data and data.get("event") == "on_message_delta"
    ]


def kill_owner_and_server(info: ClusterInfo, owner: str, server: str) -> list[str]:
    victims = sorted({owner, server})
    for name in victims:
        kill(info.child(name))
    return victims


def test_stream_resumes_with_last_event_id_after_replicas_die(slow_sim: ClusterInfo) -> None:
    client = Client(slow_sim.url)
    client.login()
    stream_id, owner = start_chat(client)
    first = open_stream(client, stream_id)
    before = message_events(first.events(), stop_after_deltas=5)
    assert ("heartbeat", None) in before  # the mock LLM's 700 ms first token: heartbeats meanwhile
    assert before[0][1]["created"] is True
    victims = kill_owner_and_server(slow_sim, owner, first.replica)
    more = message_events(first.events())  # whatever was in flight before the connection broke
    last_id = [i for i, data in before + more if data][-1]
    second = open_stream(client, stream_id, "?resume=true", last_id=last_id)
    assert second.replica not in victims
    after = message_events(second.events())
    assert after[-1][1]["final"] is True
    received = deltas(before + more + after)
    expected = reply_tokens(PROMPT, TOKENS)
    assert [seq for seq, _ in received] == list(range(2, 2 + TOKENS))
    assert "".join(text for _, text in received) == "".join(expected)
    final = after[-1][1]["responseMessage"]
    assert final["text"] == "".join(expected)
    messages = client.request("GET", f"/api/messages/{stream_id}").json()
    assert [m["text"] for m in messages] == [PROMPT, "".join(expected)]


def test_resume_sync_event_carries_the_reply_so_far(slow_sim: ClusterInfo) -> None:
    client = Client(slow_sim.url)
    client.login()
    stream_id, owner = start_chat(client)
    first = open_stream(client, stream_id)
    before = deltas(message_events(first.events(), stop_after_deltas=4))
    kill_owner_and_server(slow_sim, owner, first.replica)
    second = open_stream(client, stream_id, "?resume=true")
    after = message_events(second.events())
    sync = after[0][1]
    assert sync["sync"] is True
    so_far = sync["resumeState"]["aggregatedContent"][0]["text"]
    assert so_far.startswith("".join(text for _, text in before))
    rest = deltas(after[1:])
    assert [seq for seq, _ in rest] == list(range(sync["resumeState"]["lastSeq"] + 1, 2 + TOKENS))
    assert so_far + "".join(text for _, text in rest) == "".join(reply_tokens(PROMPT, TOKENS))
    assert after[-1][1]["final"] is True

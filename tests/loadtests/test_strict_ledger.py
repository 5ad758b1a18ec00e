"""The strict ledger: every chat the journeys start is written and judged — refused at its first
POST, cut by the run's end, or stored twice — against a real simulator."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from chaos.simulator.chat import ChatClient
from librechat_sim import ledger
from librechat_sim.cluster import Cluster
from librechat_sim.config import LLMConfig
from librechat_sim.description import ClusterInfo
from librechat_sim.ledger import Delivery
from loadtests.audit import audit
from loadtests.runner import LoadtestSpec, run_locust
from tests.simclient import sim_config

pytestmark = pytest.mark.e2e

USER, PASSWORD = "loadtest-0@example.com", "loadtest-password"
PASSWORDS = {f"loadtest-{i}@example.com": PASSWORD for i in range(4)}


def test_a_refused_chat_is_counted_and_must_not_be_stored_and_one_cut_early_is_unjudged(
    sim: ClusterInfo,
) -> None:
    refused = Delivery(
        "", str(uuid.uuid4()), USER, request_text=f"never stored {uuid.uuid4().hex[:8]}",
        started_at=time.time(), outcome="refused", error="the POST answered 503",
    )  # fmt: skip
    cut = Delivery("", str(uuid.uuid4()), USER, started_at=time.time(), outcome="in_flight")
    checked = audit(sim.url, [refused, cut], PASSWORDS)
    assert (checked.chats, checked.refused, checked.lost, checked.duplicated) == (1, 1, 0, 0)
    assert (checked.in_flight, checked.unjudged) == (1, 1)
    assert checked.passed
    # The server answered an error, yet stored the message: the user's retry stores it twice.
    client = ChatClient(sim.url, USER, PASSWORD)
    text = f"stored anyway {uuid.uuid4().hex[:8]}"
    assert client.follow_to_end(client.start(text), within_s=15).final
    stored_anyway = Delivery(
        "", str(uuid.uuid4()), USER, request_text=text, started_at=time.time(),
        outcome="refused", error="the POST answered 502",
    )  # fmt: skip
    checked = audit(sim.url, [stored_anyway], PASSWORDS)
    assert (checked.refused, checked.lost, checked.duplicated) == (1, 0, 1)
    assert "yet the server stored it" in checked.examples[0]["problems"][0]


def test_a_second_stored_copy_of_the_users_message_is_a_duplicate(sim: ClusterInfo) -> None:
    client = ChatClient(sim.url, USER, PASSWORD)
    delivery = client.follow_to_end(client.start("say it once"), within_s=15)
    assert delivery.final
    assert audit(sim.url, [delivery], PASSWORDS).passed
    (reply,) = [m for m in client.stored(delivery.stream_id) if not m["isCreatedByUser"]]
    again = {  # the same text again, under a new id, in the same conversation: a client retry
        "text": "say it once", "sender": "User", "isCreatedByUser": True,
        "messageId": str(uuid.uuid4()), "parentMessageId": reply["messageId"],
        "conversationId": delivery.stream_id, "endpoint": "openAI", "model": "gpt-4o-mini",
    }  # fmt: skip
    assert client.session.post(sim.url + "/api/agents/chat/openAI", json=again).status_code == 200
    checked = audit(sim.url, [delivery], PASSWORDS)
    assert (checked.lost, checked.duplicated) == (0, 1)
    assert "2 copies of its text" in checked.examples[0]["problems"][0]


def test_a_chat_cut_by_the_runs_end_is_resumed_then_judged_whole(sim: ClusterInfo) -> None:
    client = ChatClient(sim.url, USER, PASSWORD)
    cut = client.start("finish without me")
    assert not client.follow(cut, stop_after_events=2)  # the run ended after two events
    cut.outcome = "in_flight"
    checked = audit(sim.url, [cut], PASSWORDS)
    assert (checked.chats, checked.in_flight, checked.lost, checked.unjudged) == (1, 1, 0, 0)
    assert cut.final
    assert cut.duplicates == 0


def test_the_journeys_write_chats_the_run_ends_on(tmp_path: Path) -> None:
    slow = LLMConfig(ttft_ms=300, tokens_per_second=4, reply_tokens=40)  # 10 s per reply
    with Cluster(sim_config(tmp_path / "state", llm=slow)) as info:
        ledger_file = tmp_path / "ledger.jsonl"
        spec = LoadtestSpec(
            profile="laptop", report_dir=tmp_path / "report", target=info.url, users=3,
            duration_s=5, ledger=ledger_file, warmup_s=0,
        )  # fmt: skip
        run_locust(spec, info.url, info.config.seed_password)
        deliveries = ledger.read(ledger_file)
        cut = [d for d in deliveries if d.outcome == "in_flight"]
        assert cut, json.dumps([d.outcome for d in deliveries])
        assert all(d.started_at > 0 and d.request_text for d in deliveries)
        checked = audit(
            info.url, deliveries, {f"loadtest-{i}@example.com": PASSWORD for i in range(4)}
        )
    assert checked.in_flight == len(cut)
    # The server finishes what the run cut: none of those is lost once it had its grace.
    assert checked.lost == 0, checked.examples

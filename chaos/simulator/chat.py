"""A browser-like LibreChat chat client for the probes: log in, start a reply, follow its stream.

It follows LibreChat's resumable streams: when a stream breaks it reconnects with the
``Last-Event-ID`` of the last event it received, and it records every event's sequence number so
a lost or repeated event is seen, not guessed.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from ..errors import ChaosError, UnreachableError

BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
"""LibreChat refuses requests whose User-Agent names no browser."""


@dataclass
class Delivery:
    """What the client received for one reply."""

    stream_id: str
    """The job's stream (the conversation id)."""
    request_message_id: str
    """The user's message."""
    seqs: list[int] = field(default_factory=list)
    """Sequence numbers of the events received, in order (repeats included)."""
    text: str = ""
    """The reply text carried by the deltas received."""
    final: dict[str, Any] | None = None
    """The ``final`` event, once received."""
    reconnects: int = 0
    """Times the stream was opened again after a break."""
    last_event_id: str = ""
    """The ``id:`` of the last event received."""

    @property
    def duplicates(self) -> int:
        """Events received more than once."""
        return len(self.seqs) - len(set(self.seqs))

    @property
    def gaps(self) -> int:
        """Sequence numbers missing between 1 and the last received."""
        return (max(self.seqs) - len(set(self.seqs))) if self.seqs else 0

    def summary(self) -> dict[str, Any]:
        """JSON-ready numbers for a journal."""
        return {
            "streamId": self.stream_id,
            "complete": self.final is not None,
            "events": len(self.seqs),
            "duplicates": self.duplicates,
            "gaps": self.gaps,
            "reconnects": self.reconnects,
            "text_matches_final": self.final is not None
            and self.final["responseMessage"]["text"] == self.text,
        }


class ChatClient:
    """One logged-in browser session against ``url``."""

    def __init__(self, url: str, email: str, password: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self.session.headers["User-Agent"] = BROWSER
        login = {"email": email, "password": password}
        response = self._call("POST", "/api/auth/login", json=login)
        if response.status_code != 200:
            raise ChaosError(
                f"login as {email} answered {response.status_code}",
                hint="use one of the simulator's seeded users (loadtest-<i>@example.com)",
            )
        self.session.headers["Authorization"] = f"Bearer {response.json()['token']}"

    def _call(self, method: str, path: str, base: str | None = None, **kw: Any) -> Any:
        try:
            return self.session.request(
                method, (base or self.url) + path, timeout=self.timeout_s, **kw
            )
        except requests.RequestException as exc:
            raise UnreachableError(f"{base or self.url} did not answer {path}: {exc}") from None

    def start(self, text: str, base: str | None = None) -> Delivery:
        """Send a new chat message (to ``base`` instead of the front when given)."""
        message_id = str(uuid.uuid4())
        body = {
            "text": text,
            "sender": "User",
            "isCreatedByUser": True,
            "messageId": message_id,
            "parentMessageId": "00000000-0000-0000-0000-000000000000",
            "conversationId": None,
            "endpoint": "openAI",
            "model": "gpt-4o-mini",
            "agent_id": "ephemeral",
        }
        response = self._call("POST", "/api/agents/chat/openAI", base, json=body)
        if response.status_code != 200:
            raise ChaosError(f"starting a chat answered {response.status_code}: {response.text}")
        return Delivery(stream_id=response.json()["streamId"], request_message_id=message_id)

    def follow(
        self,
        delivery: Delivery,
        base: str | None = None,
        stop_after_events: int = 0,
        deadline: float = math.inf,
    ) -> bool:
        """Read the stream until ``final`` (True), a break, ``stop_after_events`` events or the
        ``deadline`` (``time.monotonic()``) (False). Resumes after ``delivery.last_event_id``."""
        headers = {"Accept": "text/event-stream"}
        if delivery.last_event_id:
            headers["Last-Event-ID"] = delivery.last_event_id
        path = f"/api/agents/chat/stream/{delivery.stream_id}"
        url = (base or self.url) + path
        received = 0
        try:
            with self.session.get(url, headers=headers, stream=True, timeout=self.timeout_s) as r:
                if r.status_code != 200:
                    return False
                event_id, data = "", ""
                for chunk in r.iter_lines():
                    if time.monotonic() > deadline:
                        return False
                    raw = chunk.decode(errors="replace")
                    if raw.startswith("id:"):
                        event_id = raw[3:].strip()
                    elif raw.startswith("data:"):
                        data = raw[5:].strip()
                    elif raw == "" and data:
                        self._record(delivery, event_id, json.loads(data))
                        event_id, data, received = "", "", received + 1
                        if delivery.final is not None:
                            return True
                        if stop_after_events and received >= stop_after_events:
                            return False
        except (requests.RequestException, ValueError):
            return False
        return delivery.final is not None

    @staticmethod
    def _record(delivery: Delivery, event_id: str, data: dict[str, Any]) -> None:
        if event_id:
            delivery.last_event_id = event_id
        if data.get("created"):
            delivery.seqs.append(1)
        elif data.get("event") == "on_message_delta":
            delivery.seqs.append(int(data["seq"]))
            parts = data["data"]["delta"]["content"]
            delivery.text += "".join(p.get("text", "") for p in parts)
        elif data.get("final"):
            delivery.seqs.append((max(delivery.seqs) if delivery.seqs else 0) + 1)
            delivery.final = data

    def follow_to_end(self, delivery: Delivery, within_s: float) -> Delivery:
        """Follow the stream through the front, reconnecting after breaks, until ``final`` or
        ``within_s`` seconds."""
        deadline = time.monotonic() + within_s
        while not self.follow(delivery, deadline=deadline):
            if time.monotonic() > deadline:
                break
            delivery.reconnects += 1
            time.sleep(0.2)
        return delivery

    def stored(self, conversation_id: str) -> list[dict[str, Any]]:
        """The messages the server keeps for the conversation."""
        response = self._call("GET", f"/api/messages/{conversation_id}")
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise ChaosError(f"reading messages answered {response.status_code}")
        messages: list[dict[str, Any]] = response.json()
        return messages

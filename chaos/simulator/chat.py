"""A browser-like LibreChat chat client for the probes: log in, start a reply, follow its stream.

It follows LibreChat's resumable streams: when a stream breaks it reconnects with the
``Last-Event-ID`` of the last event it received, and it records every event's sequence number so
a lost or repeated event is seen, not guessed.
"""

from __future__ import annotations

import codecs
import math
import time
import uuid
from typing import Any

import requests

from librechat_sim.ledger import Delivery
from librechat_sim.sse import SSEParser
from librechat_sim.useragent import BROWSER_USER_AGENT

from ..errors import ChaosError, UnreachableError


class ChatClient:
    """One logged-in browser session against ``url``."""

    def __init__(self, url: str, email: str, password: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.email = email
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self.session.headers["User-Agent"] = BROWSER_USER_AGENT
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
        stream_id = response.json()["streamId"]
        return Delivery(
            stream_id, message_id, self.email, request_text=text, started_at=time.time()
        )

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
        parser, decoder = SSEParser(), codecs.getincrementaldecoder("utf-8")("replace")
        try:
            with self.session.get(url, headers=headers, stream=True, timeout=self.timeout_s) as r:
                if r.status_code != 200:
                    return False
                for chunk in r.iter_content(chunk_size=None):
                    for event in parser.feed(decoder.decode(chunk)):
                        if event.comment is not None or not event.data:
                            continue
                        delivery.record(event.id, event.json())
                        received += 1
                        if delivery.final:
                            return True
                        if stop_after_events and received >= stop_after_events:
                            return False
                    if time.monotonic() > deadline:
                        return False
        except (requests.RequestException, ValueError):
            return False
        return delivery.final

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

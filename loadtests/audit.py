"""After a run: was every chat delivered once, whole, and kept by the server exactly once?

Each ledger line (what the client received, :mod:`librechat_sim.ledger`) is compared with what
the server stores for that conversation. A chat is **lost** when its reply never arrived whole, or
the server no longer has its message or its reply (a Redis that forgot it). It is **duplicated**
when an event arrived twice or the server keeps the message or the reply more than once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import requests

from librechat_sim.ledger import Delivery
from librechat_sim.useragent import BROWSER_USER_AGENT

from .errors import LoadtestError

MAX_EXAMPLES = 10
"""Chats described in detail in the result."""


@dataclass(frozen=True)
class Audit:
    """The messages' verdict."""

    chats: int
    """Chats the journeys started (the server accepted the message)."""
    lost: int
    """Chats whose message or reply is gone or never arrived whole."""
    duplicated: int
    """Chats with an event received twice or a message stored twice."""
    reconnects: int
    """Stream reconnects the clients needed (resumes after breaks)."""
    examples: list[dict[str, Any]] = field(default_factory=list)
    """Up to :data:`MAX_EXAMPLES` faulty chats, with why."""

    @property
    def passed(self) -> bool:
        """No chat lost or duplicated (and there were chats to judge)."""
        return self.chats > 0 and self.lost == 0 and self.duplicated == 0


class _Reader:
    """Reads conversations back as their owners, logging in once per user."""

    def __init__(self, url: str, passwords: dict[str, str]) -> None:
        self.url = url.rstrip("/")
        self.passwords = passwords
        self.tokens: dict[str, str | None] = {}
        self.session = requests.Session()
        self.session.headers["User-Agent"] = BROWSER_USER_AGENT

    def _token(self, email: str) -> str | None:
        if email not in self.tokens:
            body = {"email": email, "password": self.passwords.get(email, "")}
            response = self._post("/api/auth/login", body)
            self.tokens[email] = response.json()["token"] if response.status_code == 200 else None
        return self.tokens[email]

    def _post(self, path: str, body: dict[str, str]) -> Any:
        try:
            return self.session.post(self.url + path, json=body, timeout=10)
        except requests.RequestException as exc:
            raise LoadtestError(f"{self.url} did not answer the audit: {exc}") from None

    def messages(self, email: str, conversation_id: str) -> list[dict[str, Any]] | None:
        """The stored messages, or None when the user can no longer log in."""
        token = self._token(email)
        if token is None:
            return None
        try:
            response = self.session.get(
                f"{self.url}/api/messages/{conversation_id}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
        except requests.RequestException as exc:
            raise LoadtestError(f"{self.url} did not answer the audit: {exc}") from None
        if response.status_code != 200:
            return []
        stored: list[dict[str, Any]] = response.json()
        return stored


def _problems(
    delivery: Delivery, stored: list[dict[str, Any]] | None
) -> tuple[list[str], bool, bool]:
    """What is wrong with one chat; whether it is lost; whether it is duplicated."""
    doubled = delivery.duplicates > 0
    if not delivery.final:
        return [f"no final event after {delivery.reconnects} reconnects"], True, doubled
    if stored is None:
        return ["its user can no longer log in (the server lost the account)"], True, doubled
    asked = [m for m in stored if m.get("messageId") == delivery.request_message_id]
    replies = [m for m in stored if m.get("parentMessageId") == delivery.request_message_id]
    lost, problems = False, []
    if not asked or not replies:
        lost = True
        problems.append(f"stored: {len(asked)} message(s), {len(replies)} reply(ies)")
    streamed = delivery.text
    if delivery.final_text != streamed or (replies and replies[0].get("text") != streamed):
        lost = True
        problems.append("the reply text differs from what was streamed")
    if delivery.gaps:
        lost = True
        problems.append(f"{delivery.gaps} event(s) missing from the stream")
    if delivery.duplicates:
        problems.append(f"{delivery.duplicates} event(s) received twice")
    if len(asked) > 1 or len(replies) > 1:
        doubled = True
        problems.append(f"stored {len(asked)} times / {len(replies)} replies")
    return problems, lost, doubled


def audit(url: str, deliveries: Iterable[Delivery], passwords: dict[str, str]) -> Audit:
    """Check every delivery against the server at ``url``; ``passwords`` maps email -> password."""
    reader = _Reader(url, passwords)
    chats = lost = duplicated = reconnects = 0
    examples: list[dict[str, Any]] = []
    for delivery in deliveries:
        chats += 1
        reconnects += delivery.reconnects
        stored = reader.messages(delivery.email, delivery.stream_id) if delivery.final else []
        problems, is_lost, is_doubled = _problems(delivery, stored)
        if not problems:
            continue
        lost += is_lost
        duplicated += is_doubled
        if len(examples) < MAX_EXAMPLES:
            examples.append({"conversationId": delivery.stream_id, "problems": problems})
    return Audit(chats, lost, duplicated, reconnects, examples)

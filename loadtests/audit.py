"""After a run: was every chat delivered once, whole, and kept by the server exactly once?

Each ledger line (what the client received, :mod:`librechat_sim.ledger`) is compared with what
the server stores for that conversation. A chat is **lost** when its reply never arrived whole, or
the server no longer has its message or its reply (a Redis that forgot it). It is **duplicated**
when an event arrived twice or the server keeps the message (by id, or a second copy of its text)
or the reply more than once. A chat whose first POST was refused is counted (``refused``) and is
an error the budget pays for, not a lost message — the user saw the error and still has the text —
unless the server's search finds the message stored anyway: then it is duplicated, since the
user's retry stores it a second time.
A chat the run's end interrupted is resumed as its owner's client would resume it (its stream
from the last event received, all at once, each for :data:`IN_FLIGHT_GRACE_S` at most), then
judged like the others: the message and one whole reply stored, each event once; one interrupted
before the server named its stream cannot be looked up and is counted as ``unjudged``.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

from librechat_sim.ledger import Delivery
from librechat_sim.sse import SSEParser
from librechat_sim.useragent import BROWSER_USER_AGENT

from .errors import LoadtestError

MAX_EXAMPLES = 10
"""Chats described in detail in the result."""

IN_FLIGHT_GRACE_S = 15.0
"""How long each reply the run's end interrupted may take to finish once resumed (the longest
reply drawn, about 600 tokens at the slowest drawn rate, takes about 10 s)."""


@dataclass(frozen=True)
class ChatVerdict:
    """One chat's verdict, placed in time (for per-window counts)."""

    started_at: float
    """Wall-clock time its first POST was sent."""
    lost: bool
    duplicated: bool


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
    refused: int = 0
    """Chats whose first POST failed: the error budget's concern, not a lost message, unless
    the server stored the message anyway (then duplicated: the user's retry stores it twice)."""
    in_flight: int = 0
    """Chats the run's end interrupted (resumed, then judged like the others)."""
    unjudged: int = 0
    """Interrupted before the server named the stream: nothing to look up."""
    verdicts: tuple[ChatVerdict, ...] = field(default=(), repr=False)
    """Every judged chat's verdict in ledger order."""

    def summary(self) -> dict[str, Any]:
        """JSON-ready counts (the per-chat verdicts left out)."""
        return {
            "chats": self.chats,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "refused": self.refused,
            "in_flight": self.in_flight,
            "unjudged": self.unjudged,
            "reconnects": self.reconnects,
            "examples": self.examples,
            "passed": self.passed,
        }

    def window(self, start: float, end: float) -> tuple[int, int, int]:
        """Chats started in ``[start, end)`` (wall clock): (chats, lost, duplicated)."""
        mine = [v for v in self.verdicts if start <= v.started_at < end]
        return len(mine), sum(v.lost for v in mine), sum(v.duplicated for v in mine)

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

    def token(self, email: str) -> str | None:
        """``email``'s access token (logged in once); None when the login is refused."""
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

    def _get(self, email: str, path: str) -> Any:
        """``GET path`` as ``email``; None when the user can no longer log in."""
        token = self.token(email)
        if token is None:
            return None
        try:
            return self.session.get(
                self.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10
            )
        except requests.RequestException as exc:
            raise LoadtestError(f"{self.url} did not answer the audit: {exc}") from None

    def messages(self, email: str, conversation_id: str) -> list[dict[str, Any]] | None:
        """The stored messages, or None when the user can no longer log in."""
        response = self._get(email, f"/api/messages/{conversation_id}")
        if response is None:
            return None
        if response.status_code != 200:
            return []
        stored: list[dict[str, Any]] = response.json()
        return stored

    def copies(self, email: str, text: str) -> int:
        """How many of ``email``'s own messages the server finds with exactly ``text`` (LibreChat's
        message search, ``GET /api/messages?search=``)."""
        response = self._get(email, "/api/messages?" + urlencode({"search": text}))
        if response is None or response.status_code != 200:
            return 0
        found = response.json().get("messages", [])
        return sum(1 for m in found if m.get("isCreatedByUser") and m.get("text") == text)

    def resume(self, delivery: Delivery, within_s: float) -> bool:
        """Open the chat's stream again as its owner, after the last event it received (as
        LibreChat's client does when the page comes back), and read it to ``final`` within
        ``within_s``; the events received are added to ``delivery``. True when it finished."""
        token = self.token(delivery.email)
        if token is None or not delivery.stream_id:
            return False
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if delivery.last_event_id:
            headers["Last-Event-ID"] = delivery.last_event_id
        headers["User-Agent"] = BROWSER_USER_AGENT
        url = f"{self.url}/api/agents/chat/stream/{delivery.stream_id}"
        parser, decoder = SSEParser(), codecs.getincrementaldecoder("utf-8")("replace")
        deadline = time.monotonic() + within_s
        try:  # a session of its own: resumes run on several threads at once
            with requests.get(url, headers=headers, stream=True, timeout=within_s) as answer:
                if answer.status_code != 200:
                    return False
                for chunk in answer.iter_content(chunk_size=None):
                    for event in parser.feed(decoder.decode(chunk)):
                        if event.comment is None and event.data:
                            delivery.record(event.id, event.json())
                    if delivery.final or time.monotonic() > deadline:
                        break
        except (requests.RequestException, ValueError):
            return False
        return delivery.final


def _problems(
    delivery: Delivery, stored: list[dict[str, Any]] | None
) -> tuple[list[str], bool, bool]:
    """What is wrong with one chat; whether it is lost; whether it is duplicated."""
    doubled = delivery.duplicates > 0
    if delivery.outcome == "refused":
        if stored:  # the search found the message the server answered an error to
            why = f"{delivery.error}, yet the server stored it (a retry stores it twice)"
            return [f"refused: {why}"], False, True
        return [], False, doubled
    if not delivery.final:
        why = delivery.error or "no final event"
        if delivery.outcome == "in_flight":
            why = f"cut by the run's end; no final event within {IN_FLIGHT_GRACE_S:g}s of resuming"
        return [f"{why} after {delivery.reconnects} reconnects"], True, doubled
    if stored is None:
        return ["its user can no longer log in (the server lost the account)"], True, doubled
    asked = [m for m in stored if m.get("messageId") == delivery.request_message_id]
    replies = [m for m in stored if m.get("parentMessageId") == delivery.request_message_id]
    copies = [
        m
        for m in stored
        if m.get("isCreatedByUser") and delivery.request_text
        and m.get("text") == delivery.request_text
    ]  # fmt: skip
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
    if len(asked) > 1 or len(replies) > 1 or len(copies) > 1:
        doubled = True
        problems.append(
            f"stored {len(asked)} times ({len(copies)} copies of its text) / {len(replies)} replies"
        )
    return problems, lost, doubled


def _settle(reader: _Reader, deliveries: list[Delivery]) -> None:
    """Finish reading the replies the run's end interrupted: each one's stream is resumed as its
    owner would, all at once (as their browsers would), each for at most
    :data:`IN_FLIGHT_GRACE_S`."""
    cut = [d for d in deliveries if d.outcome == "in_flight" and d.stream_id]
    if not cut:
        return
    for email in {d.email for d in cut}:
        reader.token(email)  # log in first, one by one: the resumes then share the tokens
    with ThreadPoolExecutor(max_workers=min(len(cut), 32)) as pool:
        list(pool.map(lambda d: reader.resume(d, IN_FLIGHT_GRACE_S), cut))


def audit(url: str, deliveries: Iterable[Delivery], passwords: dict[str, str]) -> Audit:
    """Check every delivery against the server at ``url``; ``passwords`` maps email -> password."""
    reader = _Reader(url, passwords)
    every = list(deliveries)
    _settle(reader, every)
    chats = lost = duplicated = reconnects = refused = in_flight = unjudged = 0
    examples: list[dict[str, Any]] = []
    verdicts: list[ChatVerdict] = []
    for delivery in every:
        if delivery.outcome == "in_flight":
            in_flight += 1
            if not delivery.stream_id:
                unjudged += 1
                continue
        chats += 1
        refused += delivery.outcome == "refused"
        reconnects += delivery.reconnects
        stored: list[dict[str, Any]] | None = []
        if delivery.outcome == "refused":
            found = reader.copies(delivery.email, delivery.request_text)
            stored = [{"text": delivery.request_text}] * found
        elif delivery.final:
            stored = reader.messages(delivery.email, delivery.stream_id)
        problems, is_lost, is_doubled = _problems(delivery, stored)
        verdicts.append(ChatVerdict(delivery.started_at, is_lost, is_doubled))
        if not problems:
            continue
        lost += is_lost
        duplicated += is_doubled
        if len(examples) < MAX_EXAMPLES:
            examples.append({"conversationId": delivery.stream_id, "problems": problems})
    return Audit(
        chats, lost, duplicated, reconnects, examples, refused, in_flight, unjudged,
        tuple(verdicts),
    )  # fmt: skip

"""The chat ledger: what the client received for every reply, one JSON line per chat.

The chat journey records each event's sequence number, so a repeated or missing event is counted,
not guessed; after the run the verification compares each line with what the server stored
(``loadtests.audit``). Every chat the journey starts is written, whatever became of it: one whose
first POST failed (``outcome`` ``refused``) and one the run's end interrupted (``in_flight``,
written from a ``finally``) too. Lines are appended with ``O_APPEND`` (whole lines, any number of
Locust processes).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["", "refused", "in_flight"]
"""How the client's part of a chat ended: ``""`` it followed the stream as far as it could
(to ``final``, or until its chat timeout); ``refused`` the first POST failed (no stream);
``in_flight`` the run ended while the chat was still streaming."""


@dataclass
class Delivery:
    """One chat: the request and what arrived of its reply."""

    stream_id: str
    """The generation job's stream (LibreChat uses the conversation id)."""
    request_message_id: str
    """The user's message id."""
    email: str
    """Who sent it (the audit logs in as this user to read the conversation back)."""
    seqs: list[int] = field(default_factory=list)
    """Sequence numbers of the events received, in order, repeats included."""
    text: str = ""
    """The reply text the deltas carried."""
    final: bool = False
    """The ``final`` event arrived."""
    final_text: str = ""
    """The reply text the ``final`` event carried."""
    reconnects: int = 0
    """Times the stream was opened again after a break."""
    last_event_id: str = ""
    """The ``id:`` of the last event (sent as ``Last-Event-ID`` on reconnect)."""
    request_text: str = ""
    """The user's message text (a second stored copy of it is a duplicate)."""
    started_at: float = 0.0
    """Wall-clock time (epoch seconds) the first POST was sent: places the chat in a fault
    window."""
    outcome: Outcome = ""
    """How the client's part ended (see :data:`Outcome`)."""
    error: str = ""
    """Why the POST was refused or the stream ended early, when it was."""

    def record(self, event_id: str | None, data: dict[str, Any]) -> None:
        """Take one ``message`` event of the stream."""
        if event_id:
            self.last_event_id = event_id
        if data.get("created"):
            self.seqs.append(1)
        elif data.get("event") == "on_message_delta":
            self.seqs.append(int(data.get("seq", 0)))
            parts = data.get("data", {}).get("delta", {}).get("content", [])
            self.text += "".join(p.get("text", "") for p in parts)
        elif data.get("final"):
            self.seqs.append((max(self.seqs) if self.seqs else 0) + 1)
            self.final = True
            self.final_text = str((data.get("responseMessage") or {}).get("text", ""))

    @property
    def duplicates(self) -> int:
        """Events received more than once."""
        return len(self.seqs) - len(set(self.seqs))

    @property
    def gaps(self) -> int:
        """Sequence numbers missing between 1 and the last one received."""
        return max(self.seqs) - len(set(self.seqs)) if self.seqs else 0

    def summary(self) -> dict[str, Any]:
        """JSON-ready numbers for a journal."""
        return {
            "streamId": self.stream_id,
            "complete": self.final,
            "events": len(self.seqs),
            "duplicates": self.duplicates,
            "gaps": self.gaps,
            "reconnects": self.reconnects,
            "text_matches_final": self.final and self.final_text == self.text,
        }


class Ledger:
    """Appends deliveries to a file once :meth:`open` named it (nothing is written before)."""

    def __init__(self) -> None:
        self.path: Path | None = None

    def open(self, path: Path) -> None:
        """Write to ``path`` from now on."""
        self.path = path

    def write(self, delivery: Delivery) -> None:
        """Append one line."""
        if self.path is None:
            return
        line = (json.dumps(asdict(delivery)) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def read(path: Path) -> list[Delivery]:
    """Every delivery of a ledger file (none when it does not exist)."""
    if not path.exists():
        return []
    return [Delivery(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


LEDGER = Ledger()
"""This process's ledger (the locustfile opens it with ``--lco-ledger``)."""

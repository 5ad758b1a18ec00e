"""An incremental parser for server-sent events (``text/event-stream``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SSEEvent:
    """One dispatched event; comments (``: heartbeat``) become events with ``comment`` set."""

    event: str = "message"
    """The ``event:`` field."""

    data: str = ""
    """The ``data:`` lines joined by newlines."""

    id: str | None = None
    """The ``id:`` field, when sent."""

    comment: str | None = None
    """The text of a comment line."""

    def json(self) -> Any:
        """``data`` parsed as JSON."""
        return json.loads(self.data)


class SSEParser:
    """Feed it chunks of text as they arrive; it returns the events they complete."""

    def __init__(self) -> None:
        self._buffer = ""
        self._fields: dict[str, list[str]] = {}

    def feed(self, chunk: str) -> list[SSEEvent]:
        """Parse ``chunk`` (any split of the stream) and return the completed events."""
        self._buffer += chunk
        events: list[SSEEvent] = []
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            event = self._line(line.removesuffix("\r"))
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: str) -> SSEEvent | None:
        if not line:
            fields, self._fields = self._fields, {}
            if "data" not in fields:
                return None
            return SSEEvent(
                event=(fields.get("event") or ["message"])[-1],
                data="\n".join(fields["data"]),
                id=fields["id"][-1] if "id" in fields else None,
            )
        if line.startswith(":"):
            return SSEEvent(event="", comment=line[1:].strip())
        name, _, value = line.partition(":")
        self._fields.setdefault(name, []).append(value.removeprefix(" "))
        return None

"""Known events: scheduled launches, matches, campaigns — times when demand is not the usual.

What belongs here: :class:`Event`, :class:`EventCalendar` (which events a window of time
overlaps, and what they lead one to expect) and :func:`parse_events` / :func:`load_events`, which
read the list a ``PredictiveAutoscaler``'s ``spec.events`` or a backtest's events file holds::

    - name: brazil-scotland          # any label
      start: 1998-06-10T15:30:00Z    # ISO 8601; without a zone: UTC
      end: 1998-06-10T17:30:00Z      # exclusive, after start
      multiplier: 2.0                # optional: expect this times the seasonal base
      rate: 5000                     # optional: expect this much (the metric's unit)

An event without ``rate`` or ``multiplier`` still counts: the nowcast keeps the scores of windows
that overlap an event apart from the others (a Mondrian split of the conformal calibration, see
:mod:`calibrate`), so the bound during an event is learnt from earlier events, and the ordinary
hours are not widened by them. With an expectation, the policy also covers at least that much
while the event runs (see :func:`~autoscaler.capacity.decide`). No decisions here.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .errors import EventsError

_KEYS = frozenset({"name", "start", "end", "rate", "multiplier"})


@dataclass(frozen=True)
class Event:
    """One known event."""

    name: str
    """A label for status and reports."""
    start: pd.Timestamp
    """When it starts (UTC, naive)."""
    end: pd.Timestamp
    """When it ends (exclusive)."""
    rate: float | None = None
    """Demand expected while it runs, in the unit of the autoscaler's metric."""
    multiplier: float | None = None
    """Demand expected as a multiple of the seasonal base."""

    def expected(self, base: float) -> float:
        """What this event expects when the seasonal base is ``base`` (NaN: no expectation)."""
        values = [self.rate or math.nan]
        if self.multiplier is not None and math.isfinite(base):
            values.append(self.multiplier * base)
        finite = [v for v in values if math.isfinite(v)]
        return max(finite) if finite else math.nan


class EventCalendar:
    """Events sorted by start; answers which of them overlap a window."""

    def __init__(self, events: Sequence[Event] = ()) -> None:
        self.events = tuple(sorted(events, key=lambda e: (e.start, e.end)))
        self.starts = [e.start for e in self.events]
        self.longest = max((e.end - e.start for e in self.events), default=pd.Timedelta(0))

    def __bool__(self) -> bool:
        return bool(self.events)

    def overlapping(self, start: pd.Timestamp, end: pd.Timestamp) -> list[Event]:
        """Events that run during some of [start, end) (times naive UTC, or with a zone)."""
        if not self.events:
            return []
        start, end = _utc(start), _utc(end)
        hi = bisect_left(self.starts, end)
        lo = bisect_left(self.starts, start - self.longest)
        return [e for e in self.events[lo:hi] if e.end > start]

    def expected(self, start: pd.Timestamp, end: pd.Timestamp, base: float) -> float:
        """The most any event overlapping [start, end) expects (NaN: none expects anything)."""
        values = [e.expected(base) for e in self.overlapping(start, end)]
        finite = [v for v in values if math.isfinite(v)]
        return max(finite) if finite else math.nan


def parse_events(items: Any, *, where: str = "events") -> tuple[Event, ...]:
    """Events from a list of mappings (``spec.events`` or a file); :class:`EventsError` names
    the entry and the field at fault."""
    if isinstance(items, Mapping) and set(items) == {"events"}:
        items = items["events"]
    if items is None:
        return ()
    if not isinstance(items, list):
        raise EventsError(f"{where}: expected a list of events, found {type(items).__name__}")
    return tuple(_event(item, f"{where}[{i}]") for i, item in enumerate(items))


def load_events(path: Path) -> tuple[Event, ...]:
    """Events from a YAML (or JSON) file: a list, or a mapping with the one key ``events``."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise EventsError(f"cannot read events file {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise EventsError(f"{path}: not valid YAML: {exc}") from exc
    return parse_events(data, where=str(path))


def _event(item: Any, where: str) -> Event:
    if not isinstance(item, Mapping):
        raise EventsError(f"{where}: expected a mapping with name, start, end")
    unknown = sorted(set(map(str, item)) - _KEYS)
    if unknown:
        raise EventsError(f"{where}: unknown field(s) {', '.join(unknown)}")
    missing = [k for k in ("start", "end") if k not in item]
    if missing:
        raise EventsError(f"{where}: missing {' and '.join(missing)}")
    name = str(item.get("name") or f"event-{where}")
    start, end = _time(item["start"], f"{where}.start"), _time(item["end"], f"{where}.end")
    if end <= start:
        raise EventsError(f"{where} ({name}): end {end} is not after start {start}")
    rate = _positive(item.get("rate"), f"{where}.rate")
    multiplier = _positive(item.get("multiplier"), f"{where}.multiplier")
    return Event(name, start, end, rate, multiplier)


def _time(value: Any, where: str) -> pd.Timestamp:
    if not isinstance(value, str | datetime | date):
        raise EventsError(f"{where}: expected an ISO-8601 time, found {value!r}")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise EventsError(f"{where}: {value!r} is not an ISO-8601 time") from exc
    if pd.isna(stamp):
        raise EventsError(f"{where}: {value!r} is not an ISO-8601 time")
    return _utc(stamp).as_unit("ns")


def _utc(time: pd.Timestamp) -> pd.Timestamp:
    """Naive UTC, as the events are kept."""
    return time.tz_convert("UTC").tz_localize(None) if time.tzinfo is not None else time


def _positive(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EventsError(f"{where}: expected a number, found {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise EventsError(f"{where}: must be a positive number, got {value}")
    return float(value)

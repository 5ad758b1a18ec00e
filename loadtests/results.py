"""What one Locust run measured, as the locustfile writes it at exit (``results.json``).

Pure data and arithmetic: the verdict and the report read it in the command-line process, which
never imports locust.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import LocustRunError


@dataclass(frozen=True)
class EntryStats:
    """One Locust entry (a request name)."""

    requests: int
    """Requests recorded, successes and failures."""

    failures: int
    """Failed requests."""

    response_times: dict[int, int]
    """Locust's histogram: rounded milliseconds -> count."""

    errors: dict[str, int] = field(default_factory=dict)
    """Failure messages -> count."""


def round_ms(ms: float) -> int:
    """Round a latency as Locust's histograms do (``locust.stats.bucket_response_time``): 1 ms
    below 100, 10 ms below 1 s, 100 ms below 10 s, then 1 s."""
    if ms < 100:
        return round(ms)
    if ms < 1000:
        return int(round(ms, -1))
    if ms < 10_000:
        return int(round(ms, -2))
    return int(round(ms, -3))


@dataclass
class TimelineCell:
    """One entry's requests in one second of the run."""

    requests: int = 0
    """Requests that finished in that second."""

    failures: int = 0
    """Of which failed."""

    response_times: dict[int, int] = field(default_factory=dict)
    """Rounded milliseconds -> count."""

    def add(self, ms: int, failed: bool) -> None:
        """Count one request."""
        self.requests += 1
        self.failures += failed
        self.response_times[ms] = self.response_times.get(ms, 0) + 1

    def merge(self, other: TimelineCell) -> None:
        """Add another cell's counts (from a worker)."""
        self.requests += other.requests
        self.failures += other.failures
        for ms, count in other.response_times.items():
            self.response_times[ms] = self.response_times.get(ms, 0) + count

    def to_json(self) -> list[Any]:
        """``[requests, failures, {ms: count}]``."""
        return [self.requests, self.failures, {str(k): v for k, v in self.response_times.items()}]

    @classmethod
    def from_json(cls, raw: list[Any]) -> TimelineCell:
        """Read what :meth:`to_json` wrote."""
        return cls(int(raw[0]), int(raw[1]), {int(k): int(v) for k, v in raw[2].items()})


@dataclass(frozen=True)
class RunResults:
    """A whole run."""

    host: str
    """The target URL."""

    entries: dict[str, EntryStats]
    """Per Locust entry."""

    samples: list[tuple[float, str, float]]
    """(seconds since start, entry, milliseconds), down-sampled, for the latency plots."""

    wall_s: float
    """Duration of the run."""

    cpu_s: float
    """CPU seconds the load generator process(es) used."""

    cpu_warning: bool
    """Locust itself reported CPU usage above 90 % during the run."""

    peak_users: int = 0
    """Most simulated users at once."""

    started_at: float = 0.0
    """Wall-clock time (epoch seconds) when the test started: second 0 of the timeline."""

    timeline: list[tuple[int, str, TimelineCell]] = field(default_factory=list)
    """(second into the run, entry, what finished in that second), every request counted."""

    def after(self, warmup_s: float) -> RunResults:
        """The run from second ``ceil(warmup_s)`` on, from its timeline: entries rebuilt from
        those seconds (failure messages stay those of the whole run), samples and timeline cut.
        Results without a timeline (written by an older toolkit) come back unchanged."""
        if not self.timeline:
            return self
        first = math.ceil(warmup_s)
        kept = [(s, n, c) for s, n, c in self.timeline if s >= first]
        cells: dict[str, list[TimelineCell]] = {}
        for _second, name, cell in kept:
            cells.setdefault(name, []).append(cell)
        entries = {
            name: EntryStats(
                requests=sum(c.requests for c in mine),
                failures=sum(c.failures for c in mine),
                response_times=merge(c.response_times for c in mine),
                errors=dict(self.entries[name].errors) if name in self.entries else {},
            )
            for name, mine in cells.items()
        }
        return replace(
            self,
            entries=entries,
            samples=[x for x in self.samples if x[0] >= first],
            wall_s=max(0.0, self.wall_s - first),
            timeline=kept,
        )

    def write(self, path: Path) -> None:
        """Save as JSON."""
        data = asdict(self)
        data["timeline"] = [[s, n, c.to_json()] for s, n, c in self.timeline]
        path.write_text(json.dumps(data))

    @classmethod
    def read(cls, path: Path) -> RunResults:
        """Load what :meth:`write` saved."""
        try:
            raw: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise LocustRunError(f"Locust wrote no readable results at {path}: {exc}") from None
        entries = {
            name: EntryStats(
                requests=e["requests"],
                failures=e["failures"],
                response_times={int(k): int(v) for k, v in e["response_times"].items()},
                errors=dict(e.get("errors", {})),
            )
            for name, e in raw["entries"].items()
        }
        samples = [(float(t), str(n), float(ms)) for t, n, ms in raw["samples"]]
        return cls(
            host=raw["host"],
            entries=entries,
            samples=samples,
            wall_s=raw["wall_s"],
            cpu_s=raw["cpu_s"],
            cpu_warning=raw["cpu_warning"],
            peak_users=raw.get("peak_users", 0),
            started_at=float(raw.get("started_at", 0.0)),
            timeline=[
                (int(s), str(n), TimelineCell.from_json(c)) for s, n, c in raw.get("timeline", [])
            ],
        )


def merge(histograms: Iterable[Mapping[int, int]]) -> dict[int, int]:
    """The sum of several response-time histograms."""
    total: Counter[int] = Counter()
    for hist in histograms:
        total.update(hist)
    return dict(total)


def percentile(hist: Mapping[int, int], fraction: float) -> float | None:
    """The smallest recorded time with at least ``fraction`` of the requests at or below it."""
    count = sum(hist.values())
    if count == 0:
        return None
    rank = max(1, math.ceil(fraction * count))
    seen = 0
    for ms in sorted(hist):
        seen += hist[ms]
        if seen >= rank:
            return float(ms)
    return float(max(hist))

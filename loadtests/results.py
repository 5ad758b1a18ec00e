"""What one Locust run measured, as the locustfile writes it at exit (``results.json``).

Pure data and arithmetic: the verdict and the report read it in the command-line process, which
never imports locust.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
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

    def write(self, path: Path) -> None:
        """Save as JSON."""
        path.write_text(json.dumps(asdict(self)))

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

"""The SLO gate: a run's results judged against a profile, journey by journey.

The first seconds of a run (the warm-up, when every simulated user logs in at once) can be left
out. Each journey is judged by the one evaluator, :func:`slos.evaluate.judge`, against the SLO
definition (``slos/slos.yaml``); the run passes when every judged journey passes. The generator
being CPU-bound is a warning, not a failure: its percentiles then include the generator's own
queueing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from slos.definition import Environment
from slos.evaluate import judge as evaluate

from .common.names import JOURNEY_ENTRIES
from .results import RunResults, merge, percentile

CPU_BOUND_SHARE = 0.9
"""The generator counts as CPU-bound above this share of one core per generator process."""


@dataclass(frozen=True)
class JourneyVerdict:
    """One journey's numbers and whether they meet the profile."""

    journey: str
    """SLO journey name (DESIGN.md §4)."""

    entries: tuple[str, ...]
    """The Locust entries it covers."""

    requests: int
    """Requests, successes and failures."""

    failures: int
    """Failed requests."""

    p50_ms: float | None
    """Median latency."""

    p95_ms: float | None
    """95th percentile."""

    p99_ms: float | None
    """99th percentile."""

    target_p99_ms: float | None
    """The profile's P99 limit (None: not judged on P99)."""

    target_p95_ms: float | None
    """The profile's P95 limit (None: not judged on P95)."""

    judged: bool
    """False when the profile sets no target for this journey."""

    passed: bool
    """True when judged and every check holds (and for journeys that are not judged)."""

    reasons: tuple[str, ...]
    """Why it failed (empty when it passed)."""


@dataclass(frozen=True)
class Verdict:
    """The run's verdict."""

    profile: str
    """Profile name."""

    host: str
    """The URL under test."""

    passed: bool
    """Every judged journey passed."""

    journeys: tuple[JourneyVerdict, ...]
    """Per journey."""

    warnings: tuple[str, ...]
    """Things that make the numbers less trustworthy (CPU-bound generator)."""

    wall_s: float
    """Run duration."""

    warmup_s: float
    """Seconds at the start left out of the verdict (every user logs in at once)."""

    warmup_requests: int
    """Requests in those seconds: counted in the report, not judged."""

    generator_cpu_share: float
    """Generator CPU seconds / wall seconds / generator processes."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def judge_journey(name: str, results: RunResults, profile: Environment) -> JourneyVerdict:
    """One journey's verdict (:func:`slos.evaluate.judge` on the journey's Locust entries)."""
    entries = JOURNEY_ENTRIES[name]
    stats = [results.entries[e] for e in entries if e in results.entries]
    hist = merge(s.response_times for s in stats)
    verdict = evaluate(
        name,
        sum(s.requests for s in stats),
        sum(s.failures for s in stats),
        lambda q: percentile(hist, q),
        profile,
    )
    target = profile.journeys.get(name)
    return JourneyVerdict(
        journey=name,
        entries=entries,
        requests=verdict.requests,
        failures=verdict.failures,
        p50_ms=percentile(hist, 0.50),
        p95_ms=percentile(hist, 0.95),
        p99_ms=percentile(hist, 0.99),
        target_p99_ms=target.threshold(0.99) if target else None,
        target_p95_ms=target.threshold(0.95) if target else None,
        judged=verdict.judged,
        passed=verdict.passed,
        reasons=verdict.reasons,
    )


def judge(
    results: RunResults,
    profile_name: str,
    profile: Environment,
    processes: int = 1,
    warmup_s: float = 0.0,
) -> Verdict:
    """The run's verdict against ``profile`` on the seconds after ``warmup_s``; ``processes`` is
    the number of generators."""
    judged = results.after(warmup_s)
    journeys = tuple(judge_journey(name, judged, profile) for name in JOURNEY_ENTRIES)
    total = sum(cell.requests for _s, _n, cell in results.timeline)
    kept = sum(cell.requests for _s, _n, cell in judged.timeline)
    share = results.cpu_s / results.wall_s / max(1, processes) if results.wall_s > 0 else 0.0
    warnings = []
    if results.cpu_warning or share > CPU_BOUND_SHARE:
        warnings.append(
            f"the load generator was CPU-bound ({share:.0%} of a core per process"
            + (", Locust reported CPU above 90 %" if results.cpu_warning else "")
            + "): its percentiles include its own queueing; add --workers or fewer --users"
        )
    return Verdict(
        profile=profile_name,
        host=results.host,
        passed=all(j.passed for j in journeys),
        journeys=journeys,
        warnings=tuple(warnings),
        wall_s=results.wall_s,
        warmup_s=warmup_s,
        warmup_requests=total - kept,
        generator_cpu_share=share,
    )

"""The one evaluator: a journey's requests, failures and latencies judged against its SLOs.

Used by the load-test verdict (``loadtest`` and the Locust gate) and by ``verify``'s scorecard.
A journey listed in the definition is held to the environment's availability (its failure ratio
within the error budget) and to each latency objective (the percentile within the threshold); one
with a latency objective and fewer than ``min_requests`` requests fails for lack of data. A
journey not listed is reported, not judged. Pure arithmetic: the caller measures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .definition import Environment

Quantile = Callable[[float], float | None]
"""The caller's latency percentile function: share (0.99) -> milliseconds, None without data."""


@dataclass(frozen=True)
class LatencyCheck:
    """One latency objective and what was measured."""

    label: str
    """``P99``, ``P95``..."""
    percentile: float
    """0.99, 0.95..."""
    measured_ms: float | None
    """None: no request to measure."""
    threshold_ms: float
    """The objective's limit."""
    passed: bool
    """Measured within the limit (no measurement passes here; the request count judges that)."""


@dataclass(frozen=True)
class Judgement:
    """One journey judged."""

    journey: str
    judged: bool
    """False when the definition sets no objective for it (then it passes)."""
    requests: int
    failures: int
    error_ratio: float
    allowed_error_ratio: float
    latency: tuple[LatencyCheck, ...]
    passed: bool
    reasons: tuple[str, ...]
    """Why it failed, one line per failed objective."""

    def measured(self, percentile: float) -> float | None:
        """The measured latency at a judged ``percentile``, ms."""
        return next((c.measured_ms for c in self.latency if c.percentile == percentile), None)


def judge(
    journey: str,
    requests: int,
    failures: int,
    quantile: Quantile,
    slos: Environment,
    *,
    where: str = "",
) -> Judgement:
    """``journey``'s verdict; ``where`` qualifies the request count in a reason (``in steady
    state``)."""
    target = slos.journeys.get(journey)
    ratio = failures / requests if requests else 0.0
    allowed = slos.error_budget
    if target is None:
        return Judgement(journey, False, requests, failures, ratio, allowed, (), True, ())
    reasons: list[str] = []
    if target.latency and requests < slos.min_requests:
        reasons.append(
            f"{requests} requests{' ' + where if where else ''}, "
            f"fewer than the {slos.min_requests} required"
        )
    if ratio > allowed:
        reasons.append(
            f"{failures}/{requests} failed ({ratio:.3%}), above the {allowed:.3%} error budget"
        )
    checks = []
    for objective in target.latency:
        value = quantile(objective.percentile)
        ok = value is None or value <= objective.threshold_ms
        if not ok:
            reasons.append(
                f"{objective.label} {value:g} ms above the {objective.threshold_ms:g} ms target"
            )
        checks.append(
            LatencyCheck(objective.label, objective.percentile, value, objective.threshold_ms, ok)
        )
    return Judgement(
        journey,
        True,
        requests,
        failures,
        ratio,
        allowed,
        tuple(checks),
        not reasons,
        tuple(reasons),
    )

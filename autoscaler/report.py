"""What a backtest says: the goal verdict, the frontier sweep and the JSON document.

What belongs here: :func:`verdict` (the goal at a shortfall budget B: realised shortfall no
higher than 1.2 B, and at most 0.80 times the pod-hours of ``hpa_best``, the cheapest HPA target
within B in hindsight), :func:`frontier` and :func:`to_json`. Pure functions over :mod:`backtest`
results.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from .backtest import SHORTFALL_SLACK, BacktestResult, Prepared, replay_predictive

BUDGETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
"""Shortfall budgets swept by the frontier."""
SAVING_GOAL = 0.20
"""Pod-hours the predictive policy must save against ``hpa_best``."""


@dataclass(frozen=True)
class Verdict:
    """The goal, checked for one window at one budget."""

    budget: float
    """The shortfall budget (share of intervals)."""
    realised: float
    """The predictive policy's under-provisioned share of intervals."""
    shortfall_ok: bool
    """``realised`` is at most :data:`SHORTFALL_SLACK` times the budget."""
    saving: float
    """Pod-hours saved against ``hpa_best`` (0.25 = 25 % fewer)."""
    saving_ok: bool
    """The saving reaches :data:`SAVING_GOAL`."""
    met: bool
    """Both of the above."""
    predictive_vs_oracle: float
    """Predictive pod-hours as a multiple of the oracle's."""
    hpa_best_vs_oracle: float
    """``hpa_best`` pod-hours as a multiple of the oracle's."""
    floor_vs_hpa_best: float | None = None
    """The fewest pod-hours any policy keeping the shortfall within the goal's slack can pay
    (:attr:`~autoscaler.backtest.BacktestResult.floor_pod_hours`, even knowing the future), as a
    multiple of ``hpa_best``'s; ``None`` when not computed."""
    reachable: bool | None = None
    """False: no policy, not even one that knows the future, meets the goal on this window (the
    floor is above 0.80 times ``hpa_best``); ``None`` when the floor was not computed."""


@dataclass(frozen=True)
class FrontierPoint:
    """One setting of one policy: what it costs and how often it falls short."""

    policy: str
    """``hpa`` or ``predictive``."""
    setting: float
    """HPA target utilisation, or the predictive shortfall budget."""
    pod_hours: float
    """Cost."""
    under_provisioned_pct: float
    """Share of intervals with too few ready pods, percent."""


def verdict(result: BacktestResult) -> Verdict:
    """Check the goal on one backtest."""
    best = result.policies["hpa_best"].score
    pred = result.policies["predictive"].score
    oracle = result.policies["oracle"].score
    saving = 1 - pred.pod_hours / best.pod_hours if best.pod_hours > 0 else 0.0
    realised = pred.under_provisioned_pct / 100
    floor = (
        None if result.floor_pod_hours is None else _ratio(result.floor_pod_hours, best.pod_hours)
    )
    shortfall_ok = realised <= SHORTFALL_SLACK * result.budget
    saving_ok = saving >= SAVING_GOAL
    return Verdict(
        budget=result.budget,
        realised=realised,
        shortfall_ok=shortfall_ok,
        saving=saving,
        saving_ok=saving_ok,
        met=shortfall_ok and saving_ok,
        predictive_vs_oracle=_ratio(pred.pod_hours, oracle.pod_hours),
        hpa_best_vs_oracle=_ratio(best.pod_hours, oracle.pod_hours),
        floor_vs_hpa_best=floor,
        reachable=None if floor is None else floor <= 1 - SAVING_GOAL,
    )


def frontier(prepared: Prepared, result: BacktestResult) -> list[FrontierPoint]:
    """Every HPA target of the result's sweep, and the predictive policy at each budget."""
    points = [
        FrontierPoint("hpa", target, run.score.pod_hours, run.score.under_provisioned_pct)
        for target, run in sorted(result.hpa_sweep.items())
    ]
    for budget in BUDGETS:
        score = replay_predictive(prepared, budget)[0].score
        points.append(
            FrontierPoint("predictive", budget, score.pod_hours, score.under_provisioned_pct)
        )
    return points


def to_json(
    result: BacktestResult, *, source: str, points: list[FrontierPoint] | None = None
) -> dict[str, Any]:
    """The JSON document of the ``backtest`` command."""
    check = verdict(result)
    policies = {name: asdict(run.score) for name, run in result.policies.items()}
    policies["hpa"]["target"] = result.hpa_target
    policies["hpa_best"]["target"] = result.hpa_best_target
    policies["hpa_best"]["within_budget"] = result.hpa_best_within
    if result.hpa_low is not None:
        target, run = result.hpa_low
        policies["hpa_within_budget"] = {**asdict(run.score), "target": target}
    warnings: dict[str, int] = {}
    for fit in result.fits:
        for message in fit.warnings:
            warnings[message] = warnings.get(message, 0) + 1
    document: dict[str, Any] = {
        "source": source,
        "window": {
            "start": result.times[0].isoformat(),
            "end": (result.times[-1] + result.step).isoformat(),
            "step_seconds": result.step.total_seconds(),
            "intervals": len(result.times),
        },
        "pod_capacity": result.pod_capacity,
        "budget": result.budget,
        "policies": policies,
        "forecast": {
            "mase": result.forecast.mase,
            "relative_mae": result.forecast.relative_mae,
            "smape": result.forecast.smape,
            "horizon_minutes": result.horizon / pd.Timedelta("1min"),
            "points": result.forecast.points,
            "peak_vs_persistence": result.forecast.peak_vs_persistence,
            "peak_points": result.forecast.peak_points,
        },
        "predictive_decisions": dict(result.reasons),
        "anomalies": result.anomalies,
        "model_fits": {
            "count": len(result.fits),
            "models": sorted({fit.model for fit in result.fits}),
            "warnings": warnings,
        },
        "goal": asdict(check),
    }
    if result.events is not None:
        document["events"] = {
            "count": result.events.count,
            "intervals": result.events.intervals,
            "under_provisioned_pct": {
                name: {"during": during, "outside": outside}
                for name, (during, outside) in result.events.under_provisioned_pct.items()
            },
        }
    if points is not None:
        document["frontier"] = [asdict(point) for point in points]
    return document


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("inf")

"""What a backtest says: the goal verdict, the frontier sweep and the JSON document.

What belongs here: :func:`verdict` (the issue's goal: under-provisioned time no higher than the
HPA's while using at least 20 % fewer pod-hours; pod-hours as a multiple of the oracle's),
:func:`frontier` and :func:`to_json`. Pure functions over :mod:`backtest` results.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import pandas as pd

from .backtest import BacktestResult, Prepared, replay_hpa, replay_predictive

HPA_TARGETS = (0.5, 0.6, 0.7, 0.8, 0.9)
"""HPA target utilisations swept by the frontier."""
COVERAGES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
"""Predictive risk settings (coverage of the upper forecast) swept by the frontier."""
SAVING_GOAL = 0.20
"""Pod-hours the predictive policy must save against the HPA."""


@dataclass(frozen=True)
class Verdict:
    """The goal, checked for one window."""

    under_ok: bool
    """Predictive under-provisioned time is no higher than the HPA's."""
    saving: float
    """Pod-hours saved against the HPA (0.25 = 25 % fewer)."""
    saving_ok: bool
    """The saving reaches :data:`SAVING_GOAL`."""
    met: bool
    """Both of the above."""
    predictive_vs_oracle: float
    """Predictive pod-hours as a multiple of the oracle's."""
    hpa_vs_oracle: float
    """HPA pod-hours as a multiple of the oracle's."""


@dataclass(frozen=True)
class FrontierPoint:
    """One setting of one policy: what it costs and how often it falls short."""

    policy: str
    """``hpa`` or ``predictive``."""
    setting: float
    """HPA target utilisation, or predictive coverage."""
    pod_hours: float
    """Cost."""
    under_provisioned_pct: float
    """Share of intervals with too few ready pods, percent."""


def verdict(result: BacktestResult) -> Verdict:
    """Check the issue's goal on one backtest."""
    hpa = result.policies["hpa"].score
    pred = result.policies["predictive"].score
    oracle = result.policies["oracle"].score
    saving = 1 - pred.pod_hours / hpa.pod_hours if hpa.pod_hours > 0 else 0.0
    under_ok = pred.under_provisioned_pct <= hpa.under_provisioned_pct
    saving_ok = saving >= SAVING_GOAL
    return Verdict(
        under_ok=under_ok,
        saving=saving,
        saving_ok=saving_ok,
        met=under_ok and saving_ok,
        predictive_vs_oracle=_ratio(pred.pod_hours, oracle.pod_hours),
        hpa_vs_oracle=_ratio(hpa.pod_hours, oracle.pod_hours),
    )


def frontier(prepared: Prepared) -> list[FrontierPoint]:
    """Sweep the HPA target and the predictive coverage over the same prepared window."""
    points = []
    for target in HPA_TARGETS:
        score = replay_hpa(prepared, replace(prepared.settings.hpa, target=target)).score
        points.append(FrontierPoint("hpa", target, score.pod_hours, score.under_provisioned_pct))
    for coverage in COVERAGES:
        score = replay_predictive(prepared, coverage)[0].score
        points.append(
            FrontierPoint("predictive", coverage, score.pod_hours, score.under_provisioned_pct)
        )
    return points


def to_json(
    result: BacktestResult, *, source: str, points: list[FrontierPoint] | None = None
) -> dict[str, Any]:
    """The JSON document of the ``backtest`` command."""
    check = verdict(result)
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
        "policies": {name: asdict(run.score) for name, run in result.policies.items()},
        "forecast": {
            "mase": result.forecast.mase,
            "smape": result.forecast.smape,
            "horizon_minutes": result.horizon / pd.Timedelta("1min"),
            "points": result.forecast.points,
        },
        "predictive_decisions": dict(result.reasons),
        "model_fits": {
            "count": len(result.fits),
            "models": sorted({fit.model for fit in result.fits}),
            "warnings": warnings,
        },
        "goal": asdict(check),
    }
    if points is not None:
        document["frontier"] = [asdict(point) for point in points]
    return document


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("inf")

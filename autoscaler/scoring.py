"""Scores of a backtest: cost, under-provisioning, SPEC elasticity accuracy, forecast error.

What belongs here: pure functions over arrays. ``theta_u``/``theta_o`` are the SPEC Research
Group's under-/over-provisioning accuracy (Herbst et al., "Quantifying cloud performance and
dependability", 2018): the mean relative shortfall (excess) of ready pods against the pods the
demand needs, in percent, with demand below one pod counted as one pod. Steps with unknown
demand are left out of every rate (but their pods are still paid for).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PolicyScore:
    """The figures reported per policy."""

    pod_hours: float
    """Pods that existed (ready or starting) times hours."""
    under_provisioned_pct: float
    """Share of steps with known demand in which ready pods could not serve it, in percent."""
    theta_u: float
    """SPEC under-provisioning accuracy, percent."""
    theta_o: float
    """SPEC over-provisioning accuracy, percent."""
    scaling_actions: int
    """Control steps at which the replica count changed."""


def score_policy(
    demand: np.ndarray,
    *,
    replicas: np.ndarray,
    ready: np.ndarray,
    actions: int,
    pod_capacity: float,
    step_hours: float,
) -> PolicyScore:
    """Score one policy's supply against demand (requests per step)."""
    known = np.isfinite(demand)
    need = demand[known] / pod_capacity
    served = ready[known].astype(float)
    scale = np.maximum(need, 1.0)
    short = np.maximum(need - served, 0.0) / scale
    excess = np.maximum(served - need, 0.0) / scale
    under = served * pod_capacity < demand[known] * (1 - 1e-12)
    return PolicyScore(
        pod_hours=float(replicas.sum() * step_hours),
        under_provisioned_pct=_pct(under),
        theta_u=_pct(short),
        theta_o=_pct(excess),
        scaling_actions=int(actions),
    )


@dataclass(frozen=True)
class ForecastScore:
    """Forecast accuracy at the reported horizon."""

    mase: float | None
    """MAE of the forecast divided by the MAE of the last-value forecast at the same horizon."""
    smape: float | None
    """Symmetric mean absolute percentage error, percent (0/0 counts as 0)."""
    points: int
    """Forecasts scored (both actual and forecast known)."""


def score_forecast(forecast: np.ndarray, naive: np.ndarray, actual: np.ndarray) -> ForecastScore:
    """Compare forecasts (and the naive last-value forecasts) with what happened."""
    ok = np.isfinite(forecast) & np.isfinite(actual) & np.isfinite(naive)
    if not ok.any():
        return ForecastScore(None, None, 0)
    f, a, n = forecast[ok], actual[ok], naive[ok]
    naive_mae = float(np.mean(np.abs(n - a)))
    mase = float(np.mean(np.abs(f - a)) / naive_mae) if naive_mae > 0 else None
    denominator = np.abs(f) + np.abs(a)
    ratio = np.divide(2 * np.abs(f - a), denominator, out=np.zeros_like(f), where=denominator > 0)
    return ForecastScore(mase, float(100 * np.mean(ratio)), int(ok.sum()))


def _pct(values: np.ndarray) -> float:
    return float(100 * np.mean(values)) if len(values) else 0.0

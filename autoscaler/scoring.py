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
    """Forecast accuracy: at the reported horizon, and of the peak nowcast that sizes the pods."""

    mase: float | None
    """Hyndman's MASE at the horizon: MAE divided by the in-sample MAE of the one-season-ahead
    seasonal-naive forecast over the history before the window (season: one day)."""
    relative_mae: float | None
    """MAE at the horizon divided by the MAE of the last-value forecast at the same horizon."""
    smape: float | None
    """Symmetric mean absolute percentage error at the horizon, percent (0/0 counts as 0)."""
    points: int
    """Horizon forecasts scored (both actual and forecast known)."""
    peak_vs_persistence: float | None
    """MAE of the nowcast of the peak over the start-up window, divided by the MAE of the last
    value as a forecast of that peak (below 1: the nowcast beats persistence)."""
    peak_points: int
    """Peak nowcasts scored."""


def seasonal_naive_mae(values: np.ndarray, season: int) -> float | None:
    """In-sample MAE of y[t] forecast by y[t - season] (pairs with either value unknown skipped)."""
    if season < 1 or len(values) <= season:
        return None
    diff = np.abs(values[season:] - values[:-season])
    diff = diff[np.isfinite(diff)]
    return float(diff.mean()) if len(diff) and diff.mean() > 0 else None


def score_forecast(
    forecast: np.ndarray,
    naive: np.ndarray,
    actual: np.ndarray,
    *,
    scale: float | None = None,
    peak: np.ndarray | None = None,
    nowcast: np.ndarray | None = None,
    persistence: np.ndarray | None = None,
) -> ForecastScore:
    """Compare forecasts (and the naive last-value forecasts) with what happened.

    ``scale`` is MASE's denominator; ``peak``, ``nowcast`` and ``persistence`` (same length)
    score the peak nowcast against the last value.
    """
    ratio_peak, peak_points = None, 0
    if peak is not None and nowcast is not None and persistence is not None:
        ok = np.isfinite(peak) & np.isfinite(nowcast) & np.isfinite(persistence)
        peak_points = int(ok.sum())
        if peak_points:
            base = float(np.mean(np.abs(persistence[ok] - peak[ok])))
            mine = float(np.mean(np.abs(nowcast[ok] - peak[ok])))
            ratio_peak = mine / base if base > 0 else None
    ok = np.isfinite(forecast) & np.isfinite(actual) & np.isfinite(naive)
    if not ok.any():
        return ForecastScore(None, None, None, 0, ratio_peak, peak_points)
    f, a, n = forecast[ok], actual[ok], naive[ok]
    mae = float(np.mean(np.abs(f - a)))
    naive_mae = float(np.mean(np.abs(n - a)))
    relative = mae / naive_mae if naive_mae > 0 else None
    mase = mae / scale if scale else None
    denominator = np.abs(f) + np.abs(a)
    ratio = np.divide(2 * np.abs(f - a), denominator, out=np.zeros_like(f), where=denominator > 0)
    smape = float(100 * np.mean(ratio))
    return ForecastScore(mase, relative, smape, int(ok.sum()), ratio_peak, peak_points)


def under_provisioned_split(
    demand: np.ndarray, ready: np.ndarray, *, pod_capacity: float, mask: np.ndarray
) -> tuple[float, float]:
    """Under-provisioned share of the steps with known demand, percent, where ``mask`` is set
    and where it is not."""
    known = np.isfinite(demand)
    under = ready * pod_capacity < np.where(known, demand, 0.0) * (1 - 1e-12)
    return _pct(under[known & mask]), _pct(under[known & ~mask])


def _pct(values: np.ndarray) -> float:
    return float(100 * np.mean(values)) if len(values) else 0.0

"""The backtest: HPA, the predictive autoscaler and an oracle on the same demand, no peeking.

What belongs here: :func:`run_backtest`, which replays the policies over a window prepared by
:func:`~autoscaler.prepare.prepare` and scores them — the HPA at a given target, ``hpa_best`` (the
cheapest HPA target whose shortfall on this window stays within the budget, chosen in hindsight),
the predictive policy at the budget, and the oracle — and :class:`BacktestResult`.
The settings and preparation are re-exported so that one import serves most callers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .band import FitRecord
from .capacity import pods_for
from .events import EventCalendar
from .prepare import BacktestSettings, Prepared, autoscaler_settings, prepare
from .replay import PolicyRun, replay_hpa, replay_oracle, replay_predictive
from .scoring import ForecastScore, score_forecast, seasonal_naive_mae, under_provisioned_split
from .simulate import shortfall_floor

HPA_BEST_TARGETS = tuple(round(0.30 + 0.05 * i, 2) for i in range(14))
"""HPA targets searched for ``hpa_best``: 0.30, 0.35, ..., 0.95."""
SHORTFALL_SLACK = 1.2
"""Realised shortfall the goal allows, as a multiple of the budget."""
HPA_LOW_TARGETS = (0.25, 0.2, 0.15, 0.1, 0.05)
"""Searched, in this order, only when no target of :data:`HPA_BEST_TARGETS` keeps the budget: the
first that does is reported as ``hpa_within_budget`` (what keeping it costs an HPA)."""


@dataclass(frozen=True)
class BacktestResult:
    """Everything the report, the JSON and the plot need."""

    times: pd.DatetimeIndex
    """Start of each evaluated interval."""
    demand: np.ndarray
    """Requests per interval (NaN where unknown)."""
    pod_capacity: float
    """Requests per interval one pod serves."""
    step: pd.Timedelta
    """Interval length."""
    policies: dict[str, PolicyRun]
    """``hpa``, ``hpa_best``, ``predictive`` and ``oracle``."""
    budget: float
    """The shortfall budget: share of intervals the predictive policy may under-provision."""
    hpa_target: float
    """Target utilisation of the ``hpa`` run."""
    hpa_best_target: float
    """Target of ``hpa_best``."""
    hpa_best_within: bool
    """``hpa_best`` keeps the budget (False: no target in the range does; the lowest is used)."""
    hpa_sweep: dict[float, PolicyRun]
    """Every HPA target of :data:`HPA_BEST_TARGETS`, by target."""
    forecast: ForecastScore
    """Forecast accuracy at the horizon."""
    reasons: Counter[str]
    """How many predictive decisions each rule made."""
    horizon: pd.Timedelta
    """Horizon at which the forecast was scored."""
    fits: Sequence[FitRecord] = field(default_factory=list)
    """Every refit of the seasonal model during the run."""
    anomalies: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per kind (``surge``, ``drop``): ``episodes`` flagged and ``intervals`` flagged."""
    hpa_low: tuple[float, PolicyRun] | None = None
    """When ``hpa_best`` misses the budget: the highest target below 0.30 that keeps it (from
    :data:`HPA_LOW_TARGETS`), or ``None`` when none does (or when ``hpa_best`` keeps it)."""
    events: EventsSummary | None = None
    """The known events the predictive policy was told of, and each policy's shortfall during
    and outside them (``None`` without events)."""
    floor_pod_hours: float | None = None
    """The fewest pod-hours any policy — even one that knows the future — can pay on this window
    while under-provisioning at most :data:`SHORTFALL_SLACK` times the budget of its intervals
    (:func:`~autoscaler.simulate.shortfall_floor`; infinite when none can, ``None`` when the
    start-up spans too many intervals to compute it)."""


@dataclass(frozen=True)
class EventsSummary:
    """Known events in a backtest window."""

    count: int
    """Events that overlap the window."""
    intervals: int
    """Intervals of the window that overlap an event."""
    under_provisioned_pct: dict[str, tuple[float, float]]
    """Per policy: under-provisioned share of the intervals during events and outside them,
    percent."""


def run_backtest(
    prepared: Prepared, *, hpa_target: float | None = None, budget: float | None = None
) -> BacktestResult:
    """Replay the policies over a prepared window at one shortfall budget and score them."""
    settings = prepared.settings
    budget = settings.shortfall_budget if budget is None else budget
    hpa = settings.hpa if hpa_target is None else replace(settings.hpa, target=hpa_target)
    predictive, reasons = replay_predictive(prepared, budget)
    sweep = {t: replay_hpa(prepared, replace(settings.hpa, target=t)) for t in HPA_BEST_TARGETS}
    best_target, within = best_hpa(sweep, budget)
    low = None if within else _lower_hpa(prepared, budget)
    runs = {
        "hpa": sweep.get(hpa.target) or replay_hpa(prepared, hpa),
        "hpa_best": sweep[best_target],
        "predictive": predictive,
        "oracle": replay_oracle(prepared),
    }
    times = pd.DatetimeIndex(prepared.series.index[prepared.first : prepared.last])
    return BacktestResult(
        times=times,
        demand=prepared.demand,
        pod_capacity=prepared.pod_capacity,
        step=prepared.step,
        policies=runs,
        budget=budget,
        hpa_target=hpa.target,
        hpa_best_target=best_target,
        hpa_best_within=within,
        hpa_sweep=sweep,
        hpa_low=low,
        anomalies=count_anomalies([seen.band.anomaly for seen in prepared.inputs]),
        forecast=_forecast_score(prepared),
        reasons=reasons,
        horizon=settings.horizon,
        fits=prepared.fits,
        events=_events(prepared, times, runs),
        floor_pod_hours=_floor(prepared, budget),
    )


def _floor(prepared: Prepared, budget: float) -> float | None:
    """:attr:`BacktestResult.floor_pod_hours` for ``budget``."""
    demand = prepared.demand
    known = np.isfinite(demand)
    capacity = prepared.pod_capacity
    need = np.array([pods_for(v, capacity) if k else 0 for v, k in zip(demand, known, strict=True)])
    settings = prepared.settings
    steps = shortfall_floor(
        need,
        judged=len(need),
        lead=prepared.lead,
        low=settings.min_replicas,
        high=settings.max_replicas,
        allowed=math.floor(SHORTFALL_SLACK * budget * int(known.sum()) + 1e-9),
    )
    return None if steps is None else steps * (prepared.step / pd.Timedelta("1h"))


def _events(
    prepared: Prepared, times: pd.DatetimeIndex, runs: dict[str, PolicyRun]
) -> EventsSummary | None:
    calendar = EventCalendar(prepared.settings.events)
    if not calendar:
        return None
    step = prepared.step
    mask = np.array([bool(calendar.overlapping(t, t + step)) for t in times])
    split = {
        name: under_provisioned_split(
            prepared.demand, run.supply.ready, pod_capacity=prepared.pod_capacity, mask=mask
        )
        for name, run in runs.items()
    }
    count = len(calendar.overlapping(times[0], times[-1] + step))
    return EventsSummary(count, int(mask.sum()), split)


def count_anomalies(flags: Sequence[str | None]) -> dict[str, dict[str, int]]:
    """Episodes (runs of the same kind) and intervals flagged, per kind."""
    counts = {kind: {"episodes": 0, "intervals": 0} for kind in ("surge", "drop")}
    previous = None
    for flag in flags:
        if flag is not None:
            counts[flag]["intervals"] += 1
            counts[flag]["episodes"] += flag != previous
        previous = flag
    return counts


def best_hpa(sweep: dict[float, PolicyRun], budget: float) -> tuple[float, bool]:
    """The cheapest target whose under-provisioned share is within ``budget`` (and True), or the
    lowest target (and False) when none is."""
    within = [t for t, run in sweep.items() if run.score.under_provisioned_pct <= 100 * budget]
    if not within:
        return min(sweep), False
    return min(within, key=lambda t: sweep[t].score.pod_hours), True


def _lower_hpa(prepared: Prepared, budget: float) -> tuple[float, PolicyRun] | None:
    for target in HPA_LOW_TARGETS:
        run = replay_hpa(prepared, replace(prepared.settings.hpa, target=target))
        if run.score.under_provisioned_pct <= 100 * budget:
            return target, run
    return None


def _forecast_score(prepared: Prepared) -> ForecastScore:
    values = prepared.series.to_numpy()
    h = max(1, math.ceil(prepared.settings.horizon / prepared.step))
    n = prepared.last - prepared.first
    window = prepared.lead + 1
    forecast, naive, actual = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    peak, nowcast = np.full(n, np.nan), np.full(n, np.nan)
    for i, seen in enumerate(prepared.inputs):
        t = prepared.first + i
        target = t - 1 + h
        if target < prepared.last:
            forecast[i] = seen.band.horizon
            naive[i] = values[t - 1]
            actual[i] = values[target]
        if t + window <= prepared.last:
            peak[i] = np.max(values[t : t + window])  # NaN when any interval is unknown
            nowcast[i] = seen.band.nowcast
    history = int(prepared.settings.forecast.history / prepared.step)
    season = int(pd.Timedelta("1D") / prepared.step)
    training = values[max(0, prepared.first - history) : prepared.first]
    scale = seasonal_naive_mae(training, season if len(training) > 2 * season else 1)
    persistence = values[prepared.first - 1 : prepared.first - 1 + n]
    return score_forecast(
        forecast, naive, actual, scale=scale, peak=peak, nowcast=nowcast, persistence=persistence
    )


__all__ = [
    "HPA_BEST_TARGETS",
    "HPA_LOW_TARGETS",
    "SHORTFALL_SLACK",
    "BacktestResult",
    "BacktestSettings",
    "EventsSummary",
    "PolicyRun",
    "Prepared",
    "autoscaler_settings",
    "best_hpa",
    "count_anomalies",
    "prepare",
    "replay_hpa",
    "replay_oracle",
    "replay_predictive",
    "run_backtest",
]

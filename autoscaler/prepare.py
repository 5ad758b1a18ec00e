"""Getting a backtest ready: the shared settings, the window checks, and the forecasts.

What belongs here: :class:`BacktestSettings` (the three policies' shared settings and the
predictive policy's one configuration), :func:`prepare` (checks the window, derives the per-pod
capacity, runs the online forecaster over the window with no peeking) and :class:`Prepared`.
The forecasts do not depend on the decisions, so they are made once here and every policy
replay (:mod:`replay`) and frontier point reuses them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .band import FitRecord
from .calibrate import BudgetSettings
from .capacity import CapacitySettings
from .controller import AutoscalerSettings, PredictiveAutoscaler, StepInput
from .errors import WindowError
from .events import Event
from .hpa import HPASettings
from .online import ForecastSettings
from .safety import SafetySettings
from .series import step_of

Progress = Callable[[int, int], None]
"""Called with (steps done, steps in total) while forecasting."""

_120_S = pd.Timedelta("120s")
_30_MIN = pd.Timedelta("30min")
_300_S = pd.Timedelta("300s")
_10_MIN = pd.Timedelta("10min")
_7_DAYS = pd.Timedelta("7D")


@dataclass(frozen=True)
class BacktestSettings:
    """Shared settings of the three policies, and the predictive policy's one configuration."""

    startup: pd.Timedelta = _120_S
    """Pod start-up delay."""
    horizon: pd.Timedelta = _30_MIN
    """Horizon at which forecasts are scored."""
    mean_pods: float = 20.0
    """Per-pod capacity is chosen so that mean demand over the window needs this many pods."""
    pod_capacity: float | None = None
    """Requests per interval per pod; overrides ``mean_pods`` when set."""
    min_replicas: int = 1
    """Lower bound for every policy."""
    max_replicas: int = 100_000
    """Upper bound for every policy."""
    hpa: HPASettings = field(default_factory=HPASettings)
    """The HPA baseline (target utilisation 0.7 by default)."""
    shortfall_budget: float = 0.01
    """Risk setting of the predictive policy: the share of intervals it may under-provision."""
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    """How fast the predictive policy's quantile level follows its realised shortfall."""
    hold_limit: pd.Timedelta = _10_MIN
    """Longest hold on bad data before the reactive floor of the last good value decides."""
    scale_down_window: pd.Timedelta = _300_S
    """Predictive policy's scale-down stabilisation window."""
    forecast: ForecastSettings = field(default_factory=ForecastSettings)
    """How the predictive policy forecasts."""
    safety: SafetySettings = field(default_factory=SafetySettings)
    """What the predictive policy treats as bad data."""
    warmup: pd.Timedelta = _30_MIN
    """History the window needs before it, replayed through the forecaster (not scored)."""
    calibration: pd.Timedelta = _7_DAYS
    """Replayed instead of ``warmup`` where the trace has it, so that the nowcast's calibration
    starts with a week of scores (the rest of the history is only loaded)."""
    events: tuple[Event, ...] = ()
    """Known events the predictive policy is told of (rates in requests per interval)."""


@dataclass(frozen=True)
class Prepared:
    """A window with its forecasts made: the input of every policy replay."""

    series: pd.Series
    """The whole (regular) series."""
    first: int
    """Index of the first evaluated interval."""
    last: int
    """Index after the last evaluated interval."""
    settings: BacktestSettings
    """The settings used."""
    pod_capacity: float
    """Requests per interval per pod."""
    inputs: list[StepInput]
    """What the predictive policy saw at each step."""
    fits: list[FitRecord]
    """Refits made while forecasting."""
    warm: int
    """Intervals before the window replayed through the forecaster (not scored)."""

    @property
    def step(self) -> pd.Timedelta:
        """Interval length."""
        return step_of(self.series)

    @property
    def lead(self) -> int:
        """Intervals between asking for a pod and it serving."""
        return max(1, math.ceil(self.settings.startup / self.step))

    @property
    def demand(self) -> np.ndarray:
        """Requests in the evaluated intervals."""
        return self.series.to_numpy()[self.first : self.last]


def prepare(
    series: pd.Series,
    settings: BacktestSettings,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    progress: Progress | None = None,
) -> Prepared:
    """Check the window, choose the pod capacity and run the forecaster over the window."""
    step = step_of(series)
    first, last = _window(series, settings, start, end)
    values = series.to_numpy()
    capacity = settings.pod_capacity
    if capacity is None:
        mean = float(np.nanmean(values[first:last])) if np.isfinite(values[first:last]).any() else 0
        if not mean > 0:
            raise WindowError("the window has no demand, so no pod capacity can be derived from it")
        capacity = mean / settings.mean_pods
    elif not capacity > 0:
        raise WindowError(f"pod capacity must be positive, got {capacity}")
    autoscaler = PredictiveAutoscaler(autoscaler_settings(settings, capacity, step))
    warm = max(int(settings.warmup / step), min(int(settings.calibration / step), first - 1))
    history = int(settings.forecast.history / step)
    begin = max(0, first - warm - 1 - history)
    times = pd.DatetimeIndex(series.index)
    if progress is not None:
        progress(0, last - first)
    autoscaler.preload(times[begin], values[begin : first - 1], replay=warm)
    inputs: list[StepInput] = []
    total = last - first
    for done, t in enumerate(range(first, last)):
        inputs.append(autoscaler.observe(times[t - 1], float(values[t - 1])))
        if progress is not None and (done % 500 == 0 or t == last - 1):
            progress(done + 1, total)
    fits = autoscaler.forecaster.fits
    return Prepared(series, first, last, settings, capacity, inputs, fits, warm)


def _window(
    series: pd.Series,
    settings: BacktestSettings,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
) -> tuple[int, int]:
    times = pd.DatetimeIndex(series.index)
    step = step_of(series)
    need = settings.warmup + 2 * step
    begin = times[0] + need if start is None else start
    finish = times[-1] + step if end is None else end
    if begin - times[0] < need:
        raise WindowError(
            f"the window starts at {begin}, but the trace begins at {times[0]} and the "
            f"predictive policy needs {need} of history first; start at {times[0] + need} or later"
        )
    if finish > times[-1] + step:
        raise WindowError(f"the window ends at {finish}, after the trace ends ({times[-1] + step})")
    first = int(times.searchsorted(begin))
    last = int(times.searchsorted(finish))
    if last - first < 2:
        raise WindowError(f"the window {begin} .. {finish} holds fewer than 2 intervals")
    if not np.isfinite(series.to_numpy()[first:last]).any():
        raise WindowError(f"the window {begin} .. {finish} has no known demand")
    return first, last


def capacity_settings(
    settings: BacktestSettings, pod_capacity: float, step: pd.Timedelta, budget: float
) -> CapacitySettings:
    """The predictive policy's capacity settings for one shortfall budget."""
    return CapacitySettings(
        pod_capacity=pod_capacity,
        min_replicas=settings.min_replicas,
        max_replicas=settings.max_replicas,
        shortfall_budget=budget,
        scale_down_window=max(1, math.ceil(settings.scale_down_window / step)),
        hold_limit=max(1, math.ceil(settings.hold_limit / step)),
    )


def autoscaler_settings(
    settings: BacktestSettings, pod_capacity: float, step: pd.Timedelta
) -> AutoscalerSettings:
    """The settings of the per-service autoscaler that the predictive policy replays."""
    return AutoscalerSettings(
        capacity=capacity_settings(settings, pod_capacity, step, settings.shortfall_budget),
        forecast=settings.forecast,
        safety=settings.safety,
        budget=settings.budget,
        step=step,
        startup=settings.startup,
        horizon=settings.horizon,
        events=settings.events,
    )

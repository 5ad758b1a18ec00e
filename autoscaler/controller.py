"""One service's predictive autoscaler: metric in, decision out, once per control interval.

What belongs here: :class:`PredictiveAutoscaler`, the stateful object the operator keeps per
service. It wires the metric checks (:mod:`safety`), the online forecaster (:mod:`online`), the
shortfall budget keeper (:mod:`calibrate`) and the pure capacity rules (:mod:`capacity`).
Implausible values reach the forecaster as gaps. Whether an interval was under-provisioned is
judged against the pods the policy's own decisions made ready (a :class:`~simulate.PodPool`
kept in step with the replicas the caller reports), as the backtest judges it.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .band import Band
from .calibrate import BudgetKeeper, BudgetSettings
from .capacity import CapacitySettings, Decision, ScaleDownWindow, decide, was_short
from .events import Event, EventCalendar
from .online import ForecastSettings, OnlineForecaster
from .safety import MetricTracker, Observation, SafetySettings
from .simulate import PodPool

_1_MIN = pd.Timedelta("1min")
_120_S = pd.Timedelta("120s")
_30_MIN = pd.Timedelta("30min")
_1_DAY = pd.Timedelta("1D")


@dataclass(frozen=True)
class AutoscalerSettings:
    """Everything one service's autoscaler needs, read once from config and passed in."""

    capacity: CapacitySettings
    """Per-pod capacity, bounds, risk and stabilisation."""
    forecast: ForecastSettings = field(default_factory=ForecastSettings)
    """How the forecaster learns."""
    safety: SafetySettings = field(default_factory=SafetySettings)
    """What counts as bad data."""
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    """How fast the quantile level follows the realised shortfall."""
    step: pd.Timedelta = _1_MIN
    """Control interval (one decision and one observation per interval)."""
    startup: pd.Timedelta = _120_S
    """Pod start-up delay: how far ahead new pods must be asked for."""
    horizon: pd.Timedelta = _30_MIN
    """Forecast horizon that is reported (and scored in the backtest)."""
    max_window: pd.Timedelta = _1_DAY
    """Window of the recent maximum used by the absurd-value check."""
    events: tuple[Event, ...] = ()
    """Known events (see :mod:`~autoscaler.events`)."""

    @property
    def lead_steps(self) -> int:
        """Whole intervals between asking for a pod and it serving (at least one)."""
        return max(1, math.ceil(self.startup / self.step))

    @property
    def horizon_steps(self) -> int:
        """Intervals in the reported horizon (at least one)."""
        return max(1, math.ceil(self.horizon / self.step))


@dataclass(frozen=True)
class StepInput:
    """What one control step saw: the metric judgement and the forecast after it."""

    observation: Observation
    """The last interval's metric and its context."""
    bad_data: str | None
    """Why the metric is unusable, if it is."""
    band: Band
    """The forecast made after recording the metric."""


class PredictiveAutoscaler:
    """Call :meth:`step` once per interval with the interval's requests."""

    def __init__(
        self,
        settings: AutoscalerSettings,
        *,
        replicas: int | None = None,
        executor: Executor | None = None,
        phase: float = 0.0,
    ) -> None:
        """``executor`` runs the seasonal refits (inline without one); ``phase`` in [0, 1)
        staggers the refit schedule (see :class:`~autoscaler.online.OnlineForecaster`)."""
        self.settings = settings
        self.tracker = MetricTracker(
            settings.safety,
            window=int(settings.max_window / settings.step),
            pod_capacity=settings.capacity.pod_capacity,
            max_replicas=settings.capacity.max_replicas,
        )
        self.forecaster = OnlineForecaster(
            settings.forecast,
            step=settings.step,
            lead_steps=settings.lead_steps,
            horizon_steps=settings.horizon_steps,
            level=1 - settings.capacity.shortfall_budget,
            executor=executor,
            phase=phase,
            events=EventCalendar(settings.events),
        )
        self.window = ScaleDownWindow(settings.capacity.scale_down_window)
        self.replicas = replicas if replicas is not None else settings.capacity.min_replicas
        self.keeper = BudgetKeeper(settings.capacity.shortfall_budget, settings.budget)
        self.pool = PodPool(self.replicas, lead=settings.lead_steps, now=0)
        self.steps = 0

    def preload(self, start: pd.Timestamp, values: np.ndarray, *, replay: int = 0) -> None:
        """Give the forecaster history (intervals from ``start``) before the first step; the last
        ``replay`` intervals go through :meth:`observe` one by one, so that the nowcast's
        calibration starts with scores (no decision is made for them)."""
        values = np.asarray(values, dtype=float)
        head = max(0, len(values) - max(0, replay))
        self.forecaster.preload(start, values[:head])
        for i in range(head, len(values)):
            self.observe(start + i * self.settings.step, float(values[i]))

    def observe(self, time: pd.Timestamp, value: float) -> StepInput:
        """Record the requests of the interval that started at ``time``; forecast what follows."""
        observation, bad = self.tracker.push(value)
        self.forecaster.observe(time, value if bad is None else math.nan)
        return StepInput(observation, bad, self.forecaster.band())

    def step(self, time: pd.Timestamp, value: float, *, current: int | None = None) -> Decision:
        """Observe the interval that started at ``time`` and decide replicas for the next one."""
        seen = self.observe(time, value)
        if self.steps:
            short = was_short(
                seen.observation,
                seen.bad_data,
                ready=self.pool.ready(self.steps - 1),
                pod_capacity=self.settings.capacity.pod_capacity,
            )
            if short is not None:
                self.keeper.record(short)
        if current is not None and current != self.pool.count:
            self.pool.scale(self.steps, current)
        decision = decide(
            self.settings.capacity,
            band=seen.band,
            observation=seen.observation,
            bad_data=seen.bad_data,
            current=self.pool.count,
            window=self.window,
            level=self.keeper.level,
        )
        self.pool.scale(self.steps, decision.replicas)
        self.replicas = decision.replicas
        self.steps += 1
        return decision

"""The capacity policy: forecast and interval in, replicas out, with every safety rule applied.

What belongs here: :class:`CapacitySettings`, :class:`Decision`, :class:`ScaleDownWindow` (the
stabilisation used by both this policy and the HPA model) and :func:`decide`, a pure function
of the forecast band, the last observation and the current replicas. The order of the rules:
bad data holds (never scales down) for at most ``hold_limit`` intervals, after which the reactive
floor of the last good value takes over; a failing model falls back to the reactive rule;
otherwise the upper forecast over the start-up lead time at the level the shortfall budget keeper
(:class:`~autoscaler.calibrate.BudgetKeeper`) chose, never below the reactive floor; then the
scale-down stabilisation; then the [min, max] bounds, always. Whatever the rule, what a running
known event expects (:mod:`~autoscaler.events`) is covered too: it comes from the schedule, not
from the metric or the model.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass

from .band import Band
from .safety import Observation


@dataclass(frozen=True)
class CapacitySettings:
    """How forecasts become replicas for one service."""

    pod_capacity: float
    """Requests per interval one pod serves while meeting the SLO."""
    min_replicas: int = 1
    """Lower bound from the service inventory."""
    max_replicas: int = 100_000
    """Upper bound from the service inventory."""
    shortfall_budget: float = 0.01
    """Risk setting: the share of intervals allowed to be under-provisioned."""
    reactive_target: float = 1.0
    """Utilisation the reactive floor aims at (1.0: just enough pods for the last interval)."""
    scale_down_window: int = 5
    """Control steps whose highest recommendation a scale-down may not go below."""
    hold_limit: int = 10
    """Intervals of bad data the replicas are held for; then the reactive floor of the last
    good value decides (it may scale down)."""

    def __post_init__(self) -> None:
        if not (self.pod_capacity > 0 and math.isfinite(self.pod_capacity)):
            raise ValueError(f"pod_capacity must be a positive number, got {self.pod_capacity}")
        if not 1 <= self.min_replicas <= self.max_replicas:
            raise ValueError(
                "need 1 <= min_replicas <= max_replicas, "
                f"got {self.min_replicas}, {self.max_replicas}"
            )
        if not 0 < self.shortfall_budget < 0.5:
            raise ValueError(f"shortfall budget must be in (0, 0.5), got {self.shortfall_budget}")
        if self.hold_limit < 1:
            raise ValueError(f"hold_limit must be >= 1, got {self.hold_limit}")
        if not 0 < self.reactive_target <= 1.0:
            raise ValueError(f"reactive_target must be in (0, 1], got {self.reactive_target}")
        if self.scale_down_window < 1:
            raise ValueError(f"scale_down_window must be >= 1, got {self.scale_down_window}")


_MANY = 10**9
"""Saturation for pod counts computed from huge values (always clamped to max afterwards)."""


class Reason(enum.Enum):
    """Which rule set the replicas."""

    PREDICTIVE = "predictive"
    REACTIVE_FLOOR = "reactive-floor"
    MODEL_FALLBACK = "model-fallback"
    BAD_DATA_HOLD = "bad-data-hold"
    BAD_DATA_FLOOR = "bad-data-floor"
    EVENT = "event"


@dataclass(frozen=True)
class Decision:
    """Replicas for the next interval and why."""

    replicas: int
    """Desired replicas, always within [min, max]."""
    reason: Reason
    """Which rule decided."""
    detail: str
    """One line a human can read (the failure or bad-data reason when there is one)."""


class ScaleDownWindow:
    """Kubernetes-style stabilisation: a scale-down goes no lower than the window's highest wish."""

    def __init__(self, steps: int) -> None:
        self.recent: deque[int] = deque(maxlen=max(steps, 1))

    def apply(self, recommendation: int) -> int:
        """Record this step's recommendation and return the stabilised one."""
        self.recent.append(recommendation)
        return max(self.recent)


def pods_for(requests: float, per_pod: float) -> int:
    """Whole pods needed for ``requests`` at ``per_pod`` each (saturating, never negative)."""
    pods = requests / per_pod
    if not math.isfinite(pods):
        return _MANY if pods > 0 else 0
    return max(0, min(math.ceil(pods - 1e-9), _MANY))


def reactive(value: float, settings: CapacitySettings) -> int:
    """Pods the reactive rule needs for ``value`` requests per interval (unclamped)."""
    return pods_for(value, settings.pod_capacity * settings.reactive_target)


def was_short(
    observation: Observation, bad_data: str | None, *, ready: int, pod_capacity: float
) -> bool | None:
    """Did ``ready`` pods fall short of the interval's demand? ``None`` when it is unknown."""
    if bad_data is not None or not math.isfinite(observation.value):
        return None
    return ready * pod_capacity < observation.value * (1 - 1e-12)


def clamp(replicas: int, settings: CapacitySettings) -> int:
    """Keep replicas within the inventory's [min, max]."""
    return min(max(replicas, settings.min_replicas), settings.max_replicas)


def decide(
    settings: CapacitySettings,
    *,
    band: Band | None,
    observation: Observation,
    bad_data: str | None,
    current: int,
    window: ScaleDownWindow,
    level: float,
) -> Decision:
    """Choose replicas for the next interval (see the module docstring for the order of rules).

    ``level`` is the quantile of the calibrated peak forecast to cover (1 - the keeper's alpha).
    What a running known event expects is covered by every rule (it comes from the schedule, not
    from the metric or the model); when it is what sets the replicas, the reason is ``event``.
    """
    event = _event_pods(band, settings)
    stale = observation.age > settings.hold_limit and math.isfinite(observation.last_good)
    if bad_data is not None and stale:
        floor = reactive(observation.last_good, settings)
        replicas = clamp(window.apply(max(floor, event)), settings)
        return _decision(
            replicas,
            Reason.BAD_DATA_FLOOR if floor >= event else Reason.EVENT,
            f"no good data for {observation.age} intervals ({bad_data}): "
            f"reactive floor of the last good value {observation.last_good:.4g}",
            band,
        )
    if bad_data is not None:
        held = current
        if math.isfinite(observation.last_good):
            held = max(current, reactive(observation.last_good, settings))
        replicas = clamp(max(window.apply(max(held, event)), current), settings)
        reason = Reason.BAD_DATA_HOLD if held >= event else Reason.EVENT
        return _decision(replicas, reason, f"holding: {bad_data}", band)
    floor = reactive(observation.value, settings)
    failure = _model_failure(band)
    if failure is not None:
        replicas = clamp(window.apply(max(floor, event)), settings)
        reason = Reason.MODEL_FALLBACK if floor >= event else Reason.EVENT
        return _decision(replicas, reason, f"reactive fallback: {failure}", band)
    assert band is not None
    upper = band.upper(level)
    predicted = pods_for(upper, settings.pod_capacity)
    reason = Reason.PREDICTIVE if predicted >= floor else Reason.REACTIVE_FLOOR
    if event > max(predicted, floor):
        reason = Reason.EVENT
    replicas = clamp(window.apply(max(predicted, floor, event)), settings)
    burst = ", following a surge" if band.burst else ""
    detail = f"{band.model}: upper forecast {upper:.4g} at level {level:.4g}, floor {floor}{burst}"
    return _decision(replicas, reason, detail, band)


def _event_pods(band: Band | None, settings: CapacitySettings) -> int:
    """Pods for what a known event expects over the start-up window (0: none expected)."""
    if band is None or not math.isfinite(band.expected):
        return 0
    return pods_for(band.expected, settings.pod_capacity)


def _decision(replicas: int, reason: Reason, detail: str, band: Band | None) -> Decision:
    """The decision, its detail naming the running event (and what it expects, when that is
    what set the replicas)."""
    if band is not None and band.event:
        detail += f"; event {band.event}"
        if reason is Reason.EVENT:
            detail += f" expects {band.expected:.4g}"
    return Decision(replicas, reason, detail)


def headroom(
    settings: CapacitySettings, band: Band | None, *, replicas: int, level: float, minimum: int = 0
) -> int:
    """Pods beyond ``replicas`` that the upper forecast at the horizon needs (none past
    ``max_replicas``), and at least ``minimum``: what keeps nodes warm for the next half hour."""
    need = 0
    if band is not None:
        bounds = [band.horizon_expected]
        if band.failure is None:
            bounds.append(band.horizon_upper(level))
        finite = [b for b in bounds if math.isfinite(b)]
        if finite:
            need = pods_for(max(finite), settings.pod_capacity)
    room = max(0, settings.max_replicas - replicas)
    return max(min(need - replicas, room), minimum, 0)


def _model_failure(band: Band | None) -> str | None:
    if band is None:
        return "no forecast available"
    if band.failure is not None:
        return band.failure
    if not (math.isfinite(band.peak) and band.quantiles and math.isfinite(band.upper(0.5))):
        return "the forecast is not finite"
    return None

"""The capacity policy: forecast and interval in, replicas out, with every safety rule applied.

What belongs here: :class:`CapacitySettings`, :class:`Decision`, :class:`ScaleDownWindow` (the
stabilisation used by both this policy and the HPA model) and :func:`decide`, a pure function
of the forecast band, the last observation and the current replicas. The order of the rules:
bad data holds (never scales down); a failing model falls back to the reactive rule; otherwise
the upper forecast over the start-up lead time, never below the reactive floor; then the
scale-down stabilisation; then the [min, max] bounds, always.
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
    coverage: float = 0.99
    """Risk setting: the quantile of recent forecast errors the upper bound covers."""
    reactive_target: float = 1.0
    """Utilisation the reactive floor aims at (1.0: just enough pods for the last interval)."""
    scale_down_window: int = 5
    """Control steps whose highest recommendation a scale-down may not go below."""

    def __post_init__(self) -> None:
        if not (self.pod_capacity > 0 and math.isfinite(self.pod_capacity)):
            raise ValueError(f"pod_capacity must be a positive number, got {self.pod_capacity}")
        if not 1 <= self.min_replicas <= self.max_replicas:
            raise ValueError(
                "need 1 <= min_replicas <= max_replicas, "
                f"got {self.min_replicas}, {self.max_replicas}"
            )
        if not 0.5 <= self.coverage < 1.0:
            raise ValueError(f"coverage must be in [0.5, 1), got {self.coverage}")
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
    coverage: float | None = None,
) -> Decision:
    """Choose replicas for the next interval (see the module docstring for the order of rules)."""
    if bad_data is not None:
        held = current
        if math.isfinite(observation.last_good):
            held = max(current, reactive(observation.last_good, settings))
        replicas = clamp(max(window.apply(held), current), settings)
        return Decision(replicas, Reason.BAD_DATA_HOLD, f"holding: {bad_data}")
    floor = reactive(observation.value, settings)
    failure = _model_failure(band)
    if failure is not None:
        replicas = clamp(window.apply(floor), settings)
        return Decision(replicas, Reason.MODEL_FALLBACK, f"reactive fallback: {failure}")
    assert band is not None
    upper = band.upper(settings.coverage if coverage is None else coverage)
    predicted = pods_for(upper, settings.pod_capacity)
    reason = Reason.PREDICTIVE if predicted >= floor else Reason.REACTIVE_FLOOR
    replicas = clamp(window.apply(max(predicted, floor)), settings)
    detail = f"{band.model}: upper forecast {upper:.4g}, floor {floor}"
    return Decision(replicas, reason, detail)


def _model_failure(band: Band | None) -> str | None:
    if band is None:
        return "no forecast available"
    if band.failure is not None:
        return band.failure
    if not (math.isfinite(band.peak) and band.quantiles and math.isfinite(band.upper(0.5))):
        return "the forecast is not finite"
    return None

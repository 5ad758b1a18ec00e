"""Is the latest metric trustworthy? Missing, NaN, stale and absurd values are named here.

What belongs here: :class:`Observation` (what the policy knows about the last interval),
:class:`SafetySettings` and :func:`check`, which returns why data is bad or ``None``. The policy
holds its replicas (never scales down) whenever this finds a reason.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class SafetySettings:
    """Limits on what counts as a trustworthy metric."""

    stale_after: int = 3
    """Intervals without a finite sample after which the last good value counts as stale."""
    absurd_ratio: float = 50.0
    """A value above this many times the recent maximum (at least one pod's capacity), or above
    this many times what the maximum replicas serve, is absurd."""


@dataclass(frozen=True)
class Observation:
    """What the metrics said about the last interval."""

    value: float
    """Requests in the last interval (NaN when the metric was missing)."""
    last_good: float
    """The most recent finite, plausible value (NaN if there never was one)."""
    age: int
    """Intervals since ``last_good`` was observed (0: it is the last interval)."""
    recent_max: float
    """Largest plausible value over the recent past (NaN if none: no absurdity check yet)."""


def check(
    observation: Observation, settings: SafetySettings, *, pod_capacity: float, ceiling: float
) -> str | None:
    """Why the observation cannot be used for a decision, or ``None`` when it can.

    ``ceiling`` is the largest value that is plausible at all (the autoscaler uses
    ``absurd_ratio`` times what the maximum replicas serve).
    """
    if math.isnan(observation.value):
        return _missing(observation, settings)
    return _implausible(observation, settings, pod_capacity=pod_capacity, ceiling=ceiling)


def _missing(observation: Observation, settings: SafetySettings) -> str:
    if math.isnan(observation.last_good):
        return "no metric has been observed yet"
    if observation.age > settings.stale_after:
        return f"metric is stale: no sample for {observation.age} intervals"
    return "metric is missing for the last interval"


def _implausible(
    observation: Observation, settings: SafetySettings, *, pod_capacity: float, ceiling: float
) -> str | None:
    value = observation.value
    if math.isinf(value) or value < 0:
        return f"metric is {'infinite' if math.isinf(value) else 'negative'} ({value:g})"
    if value > ceiling:
        return f"metric is absurd: {value:g} is over the plausible ceiling {ceiling:g}"
    if not math.isnan(observation.recent_max):
        baseline = max(observation.recent_max, pod_capacity)
        if value > settings.absurd_ratio * baseline:
            ratio = settings.absurd_ratio
            return f"metric is absurd: {value:g} is over {ratio:g}x the recent maximum"
    return None


class MetricTracker:
    """Turns the raw value of each interval into an :class:`Observation` (rolling max, age)."""

    def __init__(
        self, settings: SafetySettings, *, window: int, pod_capacity: float, max_replicas: int
    ) -> None:
        self.settings, self.window, self.pod_capacity = settings, max(window, 1), pod_capacity
        self.ceiling = settings.absurd_ratio * pod_capacity * max_replicas
        self.count = 0
        self.last_good, self.age = math.nan, 0
        self._maxima: deque[tuple[int, float]] = deque()

    def push(self, value: float) -> tuple[Observation, str | None]:
        """Record one interval; return the observation and why it is unusable (or ``None``)."""
        self.count += 1
        self.age += 1
        while self._maxima and self._maxima[0][0] <= self.count - self.window:
            self._maxima.popleft()
        recent = self._maxima[0][1] if self._maxima else math.nan
        observation = Observation(value, self.last_good, self.age, recent)
        reason = check(
            observation, self.settings, pod_capacity=self.pod_capacity, ceiling=self.ceiling
        )
        if reason is None:
            while self._maxima and self._maxima[-1][1] <= value:
                self._maxima.pop()
            self._maxima.append((self.count, value))
            self.last_good, self.age = value, 0
            observation = Observation(value, value, 0, recent)
        return observation, reason

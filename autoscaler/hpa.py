"""Kubernetes' HorizontalPodAutoscaler, replayed: the reactive baseline of the backtest.

What belongs here: :class:`HPASettings` and :class:`HPAModel`, following the controller's
replica calculator for a per-pod average metric: usage ratio on the last observed interval over
the ready pods, a 10 % tolerance, unready pods counted as idle when scaling up, the default
behaviour (scale-up: the larger of +100 % and +4 pods per 15 s; scale-down: stabilised over the
highest recommendation of the last 300 s, then unrestricted), and the [min, max] bounds.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import pandas as pd

from .capacity import pods_for

_300_S = pd.Timedelta("300s")
_15_S = pd.Timedelta("15s")


@dataclass(frozen=True)
class HPASettings:
    """The HPA's spec and behaviour (defaults are Kubernetes' defaults)."""

    target: float = 0.7
    """Target utilisation of the per-pod capacity."""
    tolerance: float = 0.1
    """No scaling while the usage ratio is within 1 +/- tolerance."""
    scale_down_window: pd.Timedelta = _300_S
    """Scale-down stabilisation window."""
    scale_up_period: pd.Timedelta = _15_S
    """Period of the default scale-up policies."""
    scale_up_percent: float = 100.0
    """Scale-up policy: at most this percentage of the replicas per period..."""
    scale_up_pods: int = 4
    """...or this many pods per period, whichever is larger."""
    min_replicas: int = 1
    """spec.minReplicas."""
    max_replicas: int = 100_000
    """spec.maxReplicas."""


class HPAModel:
    """One HPA; call :meth:`step` once per control interval."""

    def __init__(self, settings: HPASettings, *, pod_capacity: float, step: pd.Timedelta) -> None:
        self.settings, self.capacity, self.step_size = settings, pod_capacity, step
        self.window: deque[tuple[pd.Timestamp, int]] = deque()
        self.added: deque[tuple[pd.Timestamp, int]] = deque()

    def step(self, now: pd.Timestamp, observed: float, *, ready: int, current: int) -> int:
        """Desired replicas at ``now`` given the last interval's demand and its ready pods."""
        recommendation = self._recommend(observed, ready, current)
        desired = self._stabilise(now, recommendation, current)
        desired = self._limit_up(now, desired, current)
        desired = min(max(desired, self.settings.min_replicas), self.settings.max_replicas)
        if desired > current:
            self.added.append((now, desired - current))
        return desired

    def _recommend(self, observed: float, ready: int, current: int) -> int:
        if not math.isfinite(observed) or observed < 0 or ready == 0:
            return current  # no usable metrics: the HPA does not act
        target = self.capacity * self.settings.target
        ratio = observed / (target * ready)
        if abs(ratio - 1.0) <= self.settings.tolerance:
            return current
        if ratio > 1.0 and current > ready:
            # unready pods are assumed idle when scaling up
            ratio = observed / (target * current)
            if ratio <= 1.0 + self.settings.tolerance:
                return current
            return pods_for(observed, target)
        return pods_for(observed, target)

    def _stabilise(self, now: pd.Timestamp, recommendation: int, current: int) -> int:
        self.window.append((now, recommendation))
        while self.window and self.window[0][0] <= now - self.settings.scale_down_window:
            self.window.popleft()
        if recommendation >= current:
            return recommendation
        return min(current, max(r for _, r in self.window))

    def _limit_up(self, now: pd.Timestamp, desired: int, current: int) -> int:
        while self.added and self.added[0][0] <= now - self.settings.scale_up_period:
            self.added.popleft()
        start = current - sum(n for _, n in self.added)
        limit = max(
            start + self.settings.scale_up_pods,
            math.ceil(start * (1 + self.settings.scale_up_percent / 100.0) - 1e-9),
        )
        return min(desired, max(limit, current))

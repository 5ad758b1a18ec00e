"""How wrong were recent forecasts? A running error scale and empirical error quantiles.

What belongs here: :class:`ErrorTracker`. Each forecast made for a future interval is remembered
until that interval's actual value arrives; the error then updates a running mean square
(exponentially weighted) and, standardised by the scale, a sliding window of errors kept sorted
so that quantiles cost a lookup. Heavy tails (flash crowds) show up in the quantiles instead of
being assumed Gaussian.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import deque

import pandas as pd

from .calibrate import conformal


class ErrorTracker:
    """Errors of forecasts made ahead of time, matched to actuals by the interval's start."""

    def __init__(self, *, weight: float, window: int) -> None:
        self.weight = weight
        self.mean_square = math.nan
        self.pending: deque[tuple[pd.Timestamp, float]] = deque()
        self.window: deque[float] = deque(maxlen=max(1, window))
        self.ordered: list[float] = []

    @property
    def count(self) -> int:
        """Standardised errors in the window."""
        return len(self.ordered)

    def expect(self, time: pd.Timestamp, predicted: float) -> None:
        """Remember the forecast for the interval starting at ``time`` (times must increase)."""
        self.pending.append((time, predicted))

    def actual(self, time: pd.Timestamp, value: float) -> None:
        """The interval starting at ``time`` had ``value``: score the forecast made for it."""
        while self.pending and self.pending[0][0] < time:
            self.pending.popleft()
        if not (self.pending and self.pending[0][0] == time):
            return
        _, predicted = self.pending.popleft()
        if not math.isfinite(predicted):
            return
        error = value - predicted
        if math.isfinite(self.mean_square):
            self._add(error / self.scale(predicted))
        square = error * error  # a Python float: overflow gives inf, never an exception
        if math.isnan(self.mean_square):
            self.mean_square = square
        else:
            self.mean_square += self.weight * (square - self.mean_square)

    def scale(self, forecast: float) -> float:
        """Error scale: the running RMS error, never below Poisson noise sqrt(max(forecast, 1))."""
        floor = math.sqrt(max(forecast, 1.0)) if math.isfinite(forecast) else math.nan
        if math.isfinite(self.mean_square):
            return max(math.sqrt(self.mean_square), floor)
        return floor

    def quantiles(self) -> tuple[float, ...]:
        """Conformal quantiles of the standardised errors at :data:`~autoscaler.calibrate.LEVELS`
        (see :func:`~autoscaler.calibrate.conformal`)."""
        if not self.ordered:
            return ()
        return conformal(self.ordered)

    def _add(self, standardised: float) -> None:
        if len(self.window) == self.window.maxlen:
            del self.ordered[bisect_left(self.ordered, self.window[0])]
        self.window.append(standardised)
        insort(self.ordered, standardised)

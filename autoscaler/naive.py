"""The seasonal-naive baseline: tomorrow looks like the same time of the last season.

What belongs here: :class:`SeasonalNaive` only. It is the yardstick for the other models and the
fallback when they fail; its interval grows with the number of seasons ahead (Hyndman and
Athanasopoulos, *Forecasting: Principles and Practice*, section 5.5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .forecast import ForecastResults, check_period, validate_series
from .series import step_of


class SeasonalNaive:
    """``y[t+h] = y[t+h-k*period]`` for the smallest k that lands in the observed past."""

    def __init__(self, series: pd.Series, *, period: int) -> None:
        check_period(period, model="SeasonalNaive")
        self.series = validate_series(series, model="SeasonalNaive", min_length=period + 1)
        self.period = period

    def fit(self) -> ForecastResults:
        """Compute the residual scale; forecasting repeats the last season."""
        values = self.series.to_numpy()
        period = self.period
        last_season = values[-period:].copy()
        residuals = values[period:] - values[:-period]
        sigma = float(np.sqrt(np.mean(residuals**2)))

        def path(steps: int) -> np.ndarray:
            return last_season[np.arange(steps) % period]

        def growth(h: np.ndarray) -> np.ndarray:
            return np.asarray(np.sqrt(np.floor((h - 1) / period) + 1), dtype=float)

        index = pd.DatetimeIndex(self.series.index)
        return ForecastResults(
            model=f"seasonal-naive({period})",
            last=index[-1],
            step=step_of(self.series),
            path=path,
            sigma=sigma,
            growth=growth,
        )

"""MSTL: several seasonal cycles (daily and weekly) removed by STL, the rest smoothed by Holt.

What belongs here: :class:`MSTLForecaster`. The seasonal components are repeated from their last
cycle; the deseasonalised series (trend plus remainder) is forecast by a damped Holt model. Both
fits run with their warnings captured and reported on the results.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.tsa.holtwinters import ExponentialSmoothing
from statsmodels.tsa.seasonal import MSTL

from .errors import SeriesError
from .forecast import ForecastResults, captured_warnings, check_period, sqrt_growth, validate_series
from .series import step_of


class MSTLForecaster:
    """Multiple seasonal-trend decomposition (statsmodels ``MSTL``) plus a damped-Holt trend."""

    def __init__(self, series: pd.Series, *, periods: Sequence[int], iterate: int = 2) -> None:
        if not periods:
            raise SeriesError("MSTLForecaster: periods must name at least one seasonal period")
        for period in periods:
            check_period(period, model="MSTLForecaster")
        if iterate < 1:
            raise SeriesError(f"MSTLForecaster: iterate must be >= 1, got {iterate}")
        self.periods = tuple(sorted(periods))
        self.series = validate_series(
            series, model="MSTLForecaster", min_length=2 * self.periods[-1] + 1
        )
        self.iterate = iterate

    def fit(self) -> ForecastResults:
        """Decompose, then fit the trend model; warnings of both fits are recorded."""
        values = self.series.to_numpy()
        with captured_warnings() as found:
            decomposition = MSTL(values, periods=self.periods, iterate=self.iterate).fit()
            seasonal = np.asarray(decomposition.seasonal, dtype=float).reshape(len(values), -1)
            adjusted = values - seasonal.sum(axis=1)
            trend = ExponentialSmoothing(
                adjusted, trend="add", damped_trend=True, initialization_method="estimated"
            ).fit()
        cycles = [seasonal[-p:, i].copy() for i, p in enumerate(self.periods)]
        residuals = np.asarray(trend.resid, dtype=float)
        sigma = float(np.sqrt(np.nanmean(residuals**2)))

        def path(steps: int) -> np.ndarray:
            out = np.asarray(trend.forecast(steps), dtype=float)
            for cycle in cycles:
                out = out + cycle[np.arange(steps) % len(cycle)]
            return out

        index = pd.DatetimeIndex(self.series.index)
        return ForecastResults(
            model=f"mstl{self.periods}",
            last=index[-1],
            step=step_of(self.series),
            path=path,
            sigma=sigma,
            growth=sqrt_growth,
            fit_warnings=tuple(found),
        )

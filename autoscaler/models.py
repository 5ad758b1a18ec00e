"""Which forecasters compete for a series, given how much history it has.

What belongs here: the candidate sets handed to :class:`~autoscaler.selector.Selector` by the online
forecaster. With over fifteen days of history the weekly cycle can be learnt (MSTL daily+weekly);
with over three days only the daily cycle; with less, no seasonal model is fitted at all.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .ets import HoltWinters
from .forecast import Forecaster
from .mstl import MSTLForecaster
from .naive import SeasonalNaive
from .selector import Candidate


def candidates(n_bins: int, day_bins: int, *, holdout: int) -> Mapping[str, Candidate]:
    """The candidate models for ``n_bins`` observations with ``day_bins`` per day (may be empty).

    A seasonal model needs two full cycles even at the earliest rolling origin, so ``holdout``
    (the bins the selector holds back) comes on top: more than three days for the daily cycle,
    more than fifteen for the weekly one (with the default one-day hold-out).
    """
    week_bins = 7 * day_bins
    found: dict[str, Candidate] = {}
    if n_bins > 2 * day_bins + holdout and day_bins >= 2:
        found["seasonal-naive-day"] = lambda s: _naive(s, day_bins)
        found["holt-winters-day"] = lambda s: _holt(s, day_bins)
        found["stl-day"] = lambda s: _mstl(s, (day_bins,))
    if n_bins > 2 * week_bins + holdout and day_bins >= 2:
        found["seasonal-naive-week"] = lambda s: _naive(s, week_bins)
        found["mstl-day-week"] = lambda s: _mstl(s, (day_bins, week_bins))
    return found


def _naive(series: pd.Series, period: int) -> Forecaster:
    return SeasonalNaive(series, period=period)


def _holt(series: pd.Series, period: int) -> Forecaster:
    return HoltWinters(series, seasonal_period=period, trend=True, damped=True)


def _mstl(series: pd.Series, periods: tuple[int, ...]) -> Forecaster:
    return MSTLForecaster(series, periods=periods, iterate=1)

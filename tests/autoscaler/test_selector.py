"""The selector: rolling-origin error picks the model, failures are kept with their reason."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from autoscaler.errors import SeriesError
from autoscaler.ets import HoltWinters
from autoscaler.forecast import Forecaster
from autoscaler.models import candidates
from autoscaler.naive import SeasonalNaive
from autoscaler.online import ForecastSettings
from autoscaler.selector import Selector

from .conftest import seasonal_series


class _Broken:
    def __init__(self, series: pd.Series) -> None:
        self.series = series

    def fit(self) -> object:
        raise ValueError("cannot fit this")


def _broken(series: pd.Series) -> Forecaster:
    return _Broken(series)  # type: ignore[return-value]


def test_seasonal_model_wins_on_seasonal_data_and_failures_score_infinity() -> None:
    series = seasonal_series(5, seed=8)
    selection = Selector(
        series,
        candidates={
            "no-season": lambda s: HoltWinters(s, trend=False),
            "daily": lambda s: SeasonalNaive(s, period=96),
            "broken": _broken,
        },
        horizon=24,
        origins=3,
    ).fit()
    assert selection.best == "daily"
    assert selection.scores["daily"] < selection.scores["no-season"]
    assert math.isinf(selection.scores["broken"])
    assert "cannot fit this" in selection.failures["broken"]
    assert selection.results.model == "seasonal-naive(96)"
    assert selection.results.last == series.index[-1]


def test_all_candidates_failing_is_an_error() -> None:
    with pytest.raises(SeriesError, match="every candidate failed"):
        Selector(seasonal_series(2), candidates={"broken": _broken}, horizon=4).fit()


def test_selector_options_are_validated() -> None:
    with pytest.raises(SeriesError, match="candidates must not be empty"):
        Selector(seasonal_series(2), candidates={}, horizon=4)
    with pytest.raises(SeriesError, match="horizon and origins must be >= 1, got 0, 3"):
        Selector(seasonal_series(2), candidates={"broken": _broken}, horizon=0)


def test_candidate_tiers_follow_the_history_available() -> None:
    day = 96
    assert set(candidates(3 * day, day, holdout=day)) == set()
    assert set(candidates(3 * day + 1, day, holdout=day)) == {
        "seasonal-naive-day",
        "holt-winters-day",
        "stl-day",
    }
    assert "mstl-day-week" not in candidates(15 * day, day, holdout=day)
    weekly = candidates(16 * 96 - 4, day, holdout=day)
    assert {"mstl-day-week", "seasonal-naive-week"} <= set(weekly)


def test_default_history_reaches_the_weekly_tier() -> None:
    settings = ForecastSettings()
    bins = int(settings.history / settings.model_step)
    day = int(pd.Timedelta("1D") / settings.model_step)
    assert "mstl-day-week" in candidates(bins - 1, day, holdout=day)  # less the partial bin

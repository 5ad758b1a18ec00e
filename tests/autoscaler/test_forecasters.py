"""Forecasters: the statsmodels shape, exact validation errors, intervals, captured warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from autoscaler.errors import SeriesError
from autoscaler.ets import HoltWinters
from autoscaler.forecast import captured_warnings
from autoscaler.mstl import MSTLForecaster
from autoscaler.naive import SeasonalNaive

from .conftest import seasonal_series


def _mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a - b)))


def test_seasonal_naive_repeats_the_last_season() -> None:
    series = pd.Series(
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], index=pd.date_range("2024-01-01", periods=6, freq="1h")
    )
    results = SeasonalNaive(series, period=3).fit()
    forecast = results.forecast(5)
    np.testing.assert_array_equal(forecast.to_numpy(), [4, 5, 6, 4, 5])
    assert forecast.index[0] == pd.Timestamp("2024-01-01 06:00")
    assert results.sigma == pytest.approx(3.0)


def test_models_beat_a_flat_forecast_on_seasonal_data() -> None:
    series = seasonal_series(16, seed=1)
    train, test = series.iloc[:-96], series.to_numpy()[-96:]
    flat = np.full(96, train.iloc[-96:].mean())
    for model in (
        SeasonalNaive(train, period=96),
        HoltWinters(train, seasonal_period=96),
        MSTLForecaster(train, periods=(96, 672), iterate=1),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a fit must not leak warnings past its results
            results = model.fit()
        assert _mae(results.forecast(96).to_numpy(), test) < 0.5 * _mae(flat, test), results.model


def test_mstl_learns_the_weekly_cycle_that_a_daily_model_misses() -> None:
    series = seasonal_series(15, seed=2, noise=2.0)
    # forecast the next day from 15 days: the weekly term shifts the level day to day
    truth = seasonal_series(16, seed=2, noise=0.0).to_numpy()[-96:]
    mstl = MSTLForecaster(series, periods=(96, 672)).fit().forecast(96).to_numpy()
    naive_day = SeasonalNaive(series, period=96).fit().forecast(96).to_numpy()
    assert _mae(mstl, truth) < _mae(naive_day, truth)


def test_prediction_intervals_widen_with_coverage_and_hold_the_mean() -> None:
    results = HoltWinters(seasonal_series(4, seed=3), seasonal_period=96).fit()
    narrow = results.forecast_interval(24, coverage=0.5)
    wide = results.forecast_interval(24, coverage=0.95)
    assert (wide["upper"] > narrow["upper"]).all()
    assert (wide["lower"] < narrow["lower"]).all()
    assert ((narrow["lower"] <= narrow["mean"]) & (narrow["mean"] <= narrow["upper"])).all()
    with pytest.raises(SeriesError, match=r"coverage must be in \(0, 1\), got 1.5"):
        results.forecast_interval(3, coverage=1.5)


def test_interval_of_seasonal_naive_covers_noise_at_its_nominal_rate() -> None:
    series = seasonal_series(30, seed=4, noise=10.0)
    train, test = series.iloc[:-96], series.to_numpy()[-96:]
    band = SeasonalNaive(train, period=96).fit().forecast_interval(96, coverage=0.9)
    inside = np.mean((band["lower"].to_numpy() <= test) & (test <= band["upper"].to_numpy()))
    assert 0.75 <= inside <= 1.0


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda s: SeasonalNaive(s.to_numpy(), period=4), "series must be a pandas Series"),
        (lambda s: SeasonalNaive(s.iloc[:4], period=4), "has 4 observations, needs at least 5"),
        (lambda s: SeasonalNaive(s, period=1), "seasonal period must be >= 2, got 1"),
        (lambda s: HoltWinters(s.iloc[:10], seasonal_period=8), "needs at least 16"),
        (lambda s: MSTLForecaster(s, periods=()), "periods must name at least one"),
        (lambda s: MSTLForecaster(s.iloc[:20], periods=(10,)), "needs at least 21"),
    ],
)
def test_invalid_input_raises_an_exact_value_error(build, message) -> None:  # type: ignore[no-untyped-def]
    series = seasonal_series(1)
    with pytest.raises(ValueError, match=message):
        build(series)


def test_nan_and_irregular_series_are_rejected_up_front() -> None:
    series = seasonal_series(1)
    holed = series.copy()
    holed.iloc[3] = np.nan
    with pytest.raises(SeriesError, match="has 1 NaN or infinite values; fill or resample"):
        SeasonalNaive(holed, period=4)
    irregular = series.iloc[[0, 1, 3, 4, 5, 6]]
    irregular.index.freq = None
    with pytest.raises(SeriesError, match="regular frequency"):
        SeasonalNaive(irregular, period=2)


def test_warnings_are_captured_per_fit_not_raised() -> None:
    with captured_warnings() as found:
        warnings.warn("did not converge", RuntimeWarning, stacklevel=1)
    assert found == ["RuntimeWarning: did not converge"]


def test_a_fit_reports_its_convergence_warnings_on_the_results() -> None:
    # a flat series with one spike: the optimiser cannot settle the smoothing parameters
    values = np.zeros(200)
    values[::37] = 1e6
    series = pd.Series(values, index=pd.date_range("2024-01-01", periods=200, freq="1h"))
    results = HoltWinters(series, seasonal_period=24).fit()
    assert isinstance(results.fit_warnings, tuple)
    assert all(": " in w for w in results.fit_warnings)

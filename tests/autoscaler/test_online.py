"""The online forecaster: refits on a schedule, cheap corrections between, honest failures."""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

import numpy as np
import pandas as pd
import pytest

from autoscaler.errors import SeriesError
from autoscaler.online import ForecastSettings, OnlineForecaster

from .conftest import seasonal_series

MINUTE = pd.Timedelta("1min")


def _forecaster(settings: ForecastSettings | None = None) -> OnlineForecaster:
    return OnlineForecaster(
        settings or ForecastSettings(), step=MINUTE, lead_steps=2, horizon_steps=30
    )


def _feed(forecaster: OnlineForecaster, series: pd.Series) -> None:
    for time, value in series.items():
        assert isinstance(time, pd.Timestamp)
        forecaster.observe(time, float(value))


def test_short_history_uses_the_level_alone_and_needs_errors_before_it_is_trusted() -> None:
    forecaster = _forecaster()
    index = pd.date_range("2024-01-01", periods=5, freq=MINUTE)
    _feed(forecaster, pd.Series(100.0, index=index))
    band = forecaster.band()
    assert band.model == "level-only+anchored"
    assert band.failure is not None
    assert "forecast errors observed" in band.failure


def test_level_tracks_a_step_change_within_minutes() -> None:
    forecaster = _forecaster()
    index = pd.date_range("2024-01-01", periods=60, freq=MINUTE)
    values = np.r_[np.full(30, 100.0), np.full(30, 200.0)]
    _feed(forecaster, pd.Series(values, index=index))
    band = forecaster.band()
    assert band.failure is None
    # tracked within minutes: the point nowcast adds the running bias (half-life an hour), and
    # the step's own errors leave a few percent of it; the bound that sizes the pods (which may
    # come from another candidate, e.g. one shrunk toward the slower base) covers the new level
    assert band.nowcast == pytest.approx(200.0, rel=0.05)
    assert band.upper(0.99) >= 200.0
    assert band.upper(0.99) >= band.upper(0.5)


def test_seasonal_model_is_selected_once_and_refitted_daily() -> None:
    series = seasonal_series(4, step="1min", level=300.0, noise=5.0, seed=5)
    settings = ForecastSettings(history=pd.Timedelta("4D"))
    forecaster = _forecaster(settings)
    split = int(3.5 * 1440)
    forecaster.preload(series.index[0], series.to_numpy()[:split])
    _feed(forecaster, series.iloc[split : split + 600])
    fits = forecaster.fits
    assert len(fits) == 1  # one selection at the first step; the next refit is a day later
    assert forecaster.model != "level-only"
    band = forecaster.band()
    assert band.failure is None
    truth = series.to_numpy()[split + 600 + 29]
    assert abs(band.horizon - truth) < 0.1 * truth


def test_refit_keeps_the_forecast_continuous() -> None:
    series = seasonal_series(4.6, step="1min", level=300.0, noise=0.0, seed=6)
    forecaster = _forecaster(ForecastSettings(history=pd.Timedelta("4D")))
    split = int(3.5 * 1440)
    forecaster.preload(series.index[0], series.to_numpy()[:split])
    peaks = []
    for time, value in series.iloc[split:].items():
        assert isinstance(time, pd.Timestamp)
        forecaster.observe(time, float(value))
        peaks.append(forecaster.band().peak)
    assert len(forecaster.fits) == 2  # the selection at the start, the refit a day later
    jumps = np.abs(np.diff(peaks))
    refit_at = int((forecaster.fits[1].time - series.index[split]) / MINUTE)
    assert jumps[refit_at - 1] <= 3 * np.median(jumps) + 1.0


def test_gaps_do_not_poison_the_state() -> None:
    forecaster = _forecaster()
    index = pd.date_range("2024-01-01", periods=40, freq=MINUTE)
    values = np.full(40, 50.0)
    values[10:20] = math.nan
    _feed(forecaster, pd.Series(values, index=index))
    band = forecaster.band()
    assert band.failure is None
    assert band.peak == pytest.approx(50.0, rel=0.05)


def test_observations_must_follow_each_other() -> None:
    forecaster = _forecaster()
    forecaster.observe(pd.Timestamp("2024-01-01"), 1.0)
    with pytest.raises(SeriesError, match="does not follow"):
        forecaster.observe(pd.Timestamp("2024-01-01 00:05"), 1.0)


def test_a_model_step_that_does_not_divide_is_rejected() -> None:
    with pytest.raises(SeriesError, match="not a multiple of the series step"):
        OnlineForecaster(
            ForecastSettings(model_step=pd.Timedelta("15min")),
            step=pd.Timedelta("7min"),
            lead_steps=1,
            horizon_steps=5,
        )


def test_a_trend_term_follows_a_ramp_better_than_the_level_alone() -> None:
    index = pd.date_range("2024-01-01", periods=120, freq=MINUTE)
    ramp = pd.Series(100.0 + 5.0 * np.arange(120), index=index)
    plain, trended = _forecaster(), _forecaster(ForecastSettings(trend_halflife=MINUTE * 10))
    _feed(plain, ramp)
    _feed(trended, ramp)
    following = 100.0 + 5.0 * (120 + 29)  # the interval 30 steps after the last
    assert abs(trended.band().horizon - following) < abs(plain.band().horizon - following)


class _Deferred(Executor):
    """Runs submitted jobs only when told to: a fit that is still running elsewhere."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Future[Any], Callable[[], Any]]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self.jobs.append((future, lambda: fn(*args, **kwargs)))
        return future

    def run_all(self) -> None:
        for future, job in self.jobs:
            future.set_result(job())
        self.jobs.clear()


def test_a_fit_on_an_executor_never_blocks_the_steps_and_is_taken_up_when_done() -> None:
    series = seasonal_series(4, step="1min", level=300.0, noise=5.0, seed=5)
    executor = _Deferred()
    forecaster = OnlineForecaster(
        ForecastSettings(history=pd.Timedelta("4D")),
        step=MINUTE,
        lead_steps=2,
        horizon_steps=30,
        executor=executor,
    )
    split = int(3.5 * 1440)
    forecaster.preload(series.index[0], series.to_numpy()[:split])
    _feed(forecaster, series.iloc[split : split + 30])
    assert len(executor.jobs) == 1  # one selection submitted, none queued behind it
    assert forecaster.model == "level-only"  # steps go on with the level alone meanwhile
    assert forecaster.fits == []
    executor.run_all()
    _feed(forecaster, series.iloc[split + 30 : split + 31])
    assert forecaster.model != "level-only"
    assert [fit.time for fit in forecaster.fits] == [series.index[split]]  # the history it saw
    assert math.isfinite(forecaster.band().peak)


@pytest.mark.parametrize("phase", [0.0, 0.25, 0.5])
def test_the_phase_staggers_the_refits_over_a_day(phase: float) -> None:
    step = pd.Timedelta("15min")
    series = seasonal_series(6, step="15min", level=300.0, noise=5.0, seed=6)
    forecaster = OnlineForecaster(
        ForecastSettings(history=pd.Timedelta("4D")),
        step=step,
        lead_steps=1,
        horizon_steps=2,
        phase=phase,
    )
    split = 3 * 96
    forecaster.preload(series.index[0], series.to_numpy()[:split])
    _feed(forecaster, series.iloc[split:])
    first, second = (fit.time for fit in forecaster.fits[:2])
    assert second - first == pd.Timedelta("1D") * (1 + phase)
    third = forecaster.fits[2].time if len(forecaster.fits) > 2 else None
    assert third is None or third - second == pd.Timedelta("1D")

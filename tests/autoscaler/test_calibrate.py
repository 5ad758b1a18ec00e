"""Conformal calibration of the peak forecast, and the budget keeper (adaptive conformal)."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from autoscaler.calibrate import (
    LEVELS,
    BudgetKeeper,
    BudgetSettings,
    CalibrationSettings,
    PeakCalibrator,
    conformal,
    upper_score,
)

MINUTE = pd.Timedelta("1min")
START = pd.Timestamp("2024-01-01")


def _run(
    calibrator: PeakCalibrator, values: np.ndarray, raw: float, *, start: pd.Timestamp = START
) -> None:
    """Forecast ``raw`` for every window, then observe each value."""
    for i, value in enumerate(values):
        time = start + i * MINUTE
        calibrator.forecast(time, raw)
        calibrator.observe(time, float(value))


def test_scores_are_the_peak_over_the_window_against_the_forecast() -> None:
    calibrator = PeakCalibrator(
        CalibrationSettings(bias_halflife=pd.Timedelta("1000D")), step=MINUTE, window=3
    )
    assert calibrator.forecast(START, 10.0) == (10.0, math.sqrt(10.0))
    assert calibrator.observe(START, 5.0) is None
    assert calibrator.observe(START + MINUTE, 14.0) is None
    done = calibrator.observe(START + 2 * MINUTE, 7.0)
    assert done == (10.0, 14.0)  # the peak of 5, 14, 7 against the forecast 10
    assert calibrator.count == 1
    assert calibrator.quantiles(START)[-1] == pytest.approx(4.0 / math.sqrt(10.0))


def test_a_window_with_an_unknown_interval_is_not_scored() -> None:
    calibrator = PeakCalibrator(CalibrationSettings(), step=MINUTE, window=2)
    calibrator.forecast(START, 10.0)
    calibrator.observe(START, 5.0)
    assert calibrator.observe(START + MINUTE, math.nan) is None
    assert calibrator.count == 0


def test_conformal_quantiles_cover_new_draws_at_their_level() -> None:
    rng = np.random.default_rng(3)
    settings = CalibrationSettings(
        buckets_per_day=1,
        neighbours=0,
        days=30,
        bias_halflife=pd.Timedelta("1000D"),
        scale_halflife=pd.Timedelta("1000D"),
    )
    calibrator = PeakCalibrator(settings, step=MINUTE, window=1)
    _run(calibrator, 100 + rng.normal(0, 10, 5000), 100.0)
    quantiles = calibrator.quantiles(START)
    point, scale = calibrator.forecast(START, 100.0)
    fresh = 100 + rng.normal(0, 10, 20_000)
    for level in (0.5, 0.9, 0.99):
        bound = point + upper_score(quantiles, level) * scale
        assert np.mean(fresh <= bound) == pytest.approx(level, abs=0.015)
    # the quantiles rise with the level; the last entry (level 1.0) is the largest score itself
    assert quantiles[:-1] == tuple(sorted(quantiles[:-1]))
    assert quantiles[-1] == max(calibrator.buckets[0].ordered)
    assert len(quantiles) == len(LEVELS)


def test_past_the_largest_score_the_tail_is_extrapolated() -> None:
    """Levels beyond n / (n + 1) have no order statistic: the bound keeps rising with the level
    (an exponential tail from the top scores' mean excess), so the budget keeper can always ask
    for more cover than the largest error seen."""
    scores = np.sort(np.random.default_rng(8).exponential(1.0, 99))
    quantiles = conformal(scores)
    by_level = dict(zip(LEVELS, quantiles, strict=True))
    largest = float(scores[-1])
    assert by_level[0.98] <= largest  # rank 98 of 99: an order statistic
    assert largest < by_level[0.995] < by_level[0.999] < by_level[0.99999]
    top = scores[-5:]  # 5 % of 99, rounded up
    excess = float(np.mean(top) - scores[-6])
    assert by_level[0.99999] == pytest.approx(largest + excess * math.log(1 / (100 * 1e-5)))
    assert by_level[1.0] == largest  # the burst check's yardstick stays the largest score
    assert conformal(np.array([2.0])) == tuple(2.0 for _ in LEVELS)  # one score: no tail


def test_quantiles_are_conditional_on_the_time_of_day() -> None:
    """Noisy nights and calm days: the night's bound is wider than the day's."""
    rng = np.random.default_rng(4)
    minutes = 7 * 1440
    hour = (np.arange(minutes) // 60) % 24
    noise = np.where(hour < 6, 40.0, 5.0)
    values = 100 + rng.normal(0, 1, minutes) * noise
    settings = CalibrationSettings(
        bias_halflife=pd.Timedelta("1000D"), scale_halflife=pd.Timedelta("1000D")
    )
    calibrator = PeakCalibrator(settings, step=MINUTE, window=1)
    _run(calibrator, values, 100.0)
    night = calibrator.quantiles(START + pd.Timedelta("3h"))
    day = calibrator.quantiles(START + pd.Timedelta("14h"))
    assert upper_score(night, 0.99) > 3 * upper_score(day, 0.99)


def test_old_scores_leave_the_window() -> None:
    settings = CalibrationSettings(buckets_per_day=1, neighbours=0, days=1, min_scores=1)
    calibrator = PeakCalibrator(settings, step=pd.Timedelta("1h"), window=1)
    hour = pd.Timedelta("1h")
    for i in range(24):  # one day of large errors ...
        calibrator.forecast(START + i * hour, 0.0)
        calibrator.observe(START + i * hour, 100.0)
    big = calibrator.quantiles(START)[-1]
    for i in range(24, 48):  # ... replaced by a day of exact forecasts
        point, _ = calibrator.forecast(START + i * hour, 0.0)
        calibrator.observe(START + i * hour, point)
    assert calibrator.quantiles(START)[-1] < big / 10


def test_the_keeper_holds_the_realised_shortfall_to_the_budget() -> None:
    """A forecast error stream that shifts half-way: the level adapts, the rate stays on budget."""
    rng = np.random.default_rng(5)
    for budget in (0.001, 0.01):
        keeper = BudgetKeeper(budget)
        scores = np.r_[rng.normal(0, 1, 100_000), rng.normal(0.3, 1.2, 100_000)]
        for score in scores:
            keeper.record(bool(score > _normal_quantile(keeper.level)))
        assert keeper.realised == pytest.approx(budget, rel=0.2)


def _normal_quantile(level: float) -> float:
    return NormalDist().inv_cdf(min(level, 1 - 1e-12))


def test_a_shortfall_raises_the_level_and_calm_lowers_it() -> None:
    keeper = BudgetKeeper(0.01, BudgetSettings(gain=0.01))
    start = keeper.level
    keeper.record(True)
    after_short = keeper.level
    assert after_short > start
    for _ in range(500):
        keeper.record(False)
    assert keeper.level < after_short
    assert keeper.known == 501
    assert keeper.short == 1
    assert BudgetSettings().lowest <= 1 - keeper.level <= BudgetSettings().highest


@pytest.mark.parametrize("budget", [0.0, 0.5, -1.0])
def test_a_budget_outside_the_range_is_refused(budget: float) -> None:
    with pytest.raises(ValueError, match="shortfall budget must be in"):
        BudgetKeeper(budget)

"""The peak nowcast: which candidate wins where, the surge mode, persistence as the yardstick."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from autoscaler.backtest import BacktestSettings, count_anomalies, prepare, run_backtest
from autoscaler.calibrate import CalibrationSettings
from autoscaler.nowcast import Nowcaster, NowcastSettings

MINUTE = pd.Timedelta("1min")
START = pd.Timestamp("2024-01-01")


def _feed(values: np.ndarray, *, lead: int = 2) -> tuple[Nowcaster, list[str], list[bool]]:
    """Flat seasonal base (0): the candidates see the demand itself as the residual."""
    nowcaster = Nowcaster(NowcastSettings(), step=MINUTE, lead=lead, level=0.99)
    chosen, bursts = [], []
    for i, value in enumerate(values):
        time = START + i * MINUTE
        nowcaster.observe(time, float(value), 0.0)
        cast = nowcaster.forecast(time + MINUTE, 0.0)
        chosen.append(cast.candidate)
        bursts.append(cast.burst)
    return nowcaster, chosen, bursts


def test_white_noise_is_smoothed_and_a_random_walk_is_followed() -> None:
    rng = np.random.default_rng(11)
    _, noise, _ = _feed(1000 + rng.normal(0, 30, 3000))
    assert noise[-1].startswith("smoothed-"), noise[-1]
    _, walk, _ = _feed(1000 + np.cumsum(rng.normal(0, 30, 3000)))
    assert walk[-1] in {"anchored", "recent-max"}, walk[-1]


def test_a_surge_above_the_bound_switches_to_the_burst_mode_for_one_window() -> None:
    rng = np.random.default_rng(12)
    calm = 100 + rng.normal(0, 3, 600)
    surge = np.linspace(150, 600, 10)
    nowcaster, chosen, bursts = _feed(np.r_[calm, surge], lead=2)
    # above the largest of n scores: about 1 / n of calm intervals (ln 2 expected in 300..600)
    starts = sum(1 for a, b in itertools.pairwise(bursts[300:600]) if b and not a)
    assert starts <= 2
    assert bursts[600]  # the first interval of the surge is above the calibrated bound
    assert chosen[600] == "burst"
    # while the demand keeps rising, the burst forecast extrapolates the rise
    cast = nowcaster.candidates["burst"].last
    assert cast is not None
    assert cast.point > surge[-1]


def test_scores_at_each_candidate_pinball_select_one_with_enough_scores() -> None:
    nowcaster, chosen, _ = _feed(np.full(20, 50.0))
    assert chosen[-1] == "anchored"  # too few scores to compare: the default
    assert all(c.calibrator.count >= 1 for c in nowcaster.candidates.values())


@pytest.fixture
def two_day_result(daily_trace: pd.Series) -> object:
    start = daily_trace.index[0] + pd.Timedelta("1D")
    prepared = prepare(daily_trace, BacktestSettings(), start=start, end=start + pd.Timedelta("1D"))
    return run_backtest(prepared)


def test_the_peak_nowcast_beats_persistence_on_seasonal_poisson_demand(
    two_day_result: object,
) -> None:
    forecast = two_day_result.forecast  # type: ignore[attr-defined]
    assert forecast.peak_points > 1000
    assert forecast.peak_vs_persistence < 0.9
    assert forecast.mase is not None
    assert forecast.mase > 0


def _anomalies(values: np.ndarray) -> list[str | None]:
    # one pool of scores (not per hour of day): a day of calm gives the band 1,500 scores, as a
    # week does per three hours
    pooled = NowcastSettings(calibration=CalibrationSettings(buckets_per_day=1, neighbours=0))
    nowcaster = Nowcaster(pooled, step=MINUTE, lead=2, level=0.99)
    flags = []
    for i, value in enumerate(values):
        time = START + i * MINUTE
        nowcaster.observe(time, float(value), 0.0)
        flags.append(nowcaster.forecast(time + MINUTE, 0.0).anomaly)
    return flags


def test_demand_outside_the_band_for_several_intervals_is_an_anomaly() -> None:
    rng = np.random.default_rng(13)
    calm = 1000 + rng.normal(0, 20, 1500)
    flags = _anomalies(np.r_[calm, np.full(20, 4000.0), calm[:200], np.zeros(20), calm[:200]])
    assert flags[:1500].count("surge") + flags[:1500].count("drop") <= 5  # calm: next to none
    surge = flags.index("surge", 1490)
    assert 1502 <= surge <= 1506  # a few intervals out are not an anomaly yet, more are ...
    assert flags[surge:1520] == ["surge"] * (1520 - surge)  # ... for as long as they last
    drop = flags.index("drop", 1700)
    assert 1722 <= drop <= 1728
    assert flags[drop:1740] == ["drop"] * (1740 - drop)
    assert all(f is None for f in flags[-50:])  # back inside the band: over
    assert count_anomalies(flags[1490:1700]) == {
        "surge": {"episodes": 1, "intervals": 1522 - surge},  # the windows that hold the surge
        "drop": {"episodes": 0, "intervals": 0},
    }
    assert count_anomalies(flags[1700:1745])["drop"] == {"episodes": 1, "intervals": 1740 - drop}


def test_anomaly_episodes_and_intervals_are_counted_per_kind() -> None:
    flags = [None, "surge", "surge", None, "drop", "surge", "surge", None]
    assert count_anomalies(flags) == {
        "surge": {"episodes": 2, "intervals": 4},
        "drop": {"episodes": 1, "intervals": 1},
    }

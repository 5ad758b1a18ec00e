"""The capacity policy: the order of its rules, the reactive floor, stabilisation and bounds."""

from __future__ import annotations

import math

import pytest

from autoscaler.band import Band
from autoscaler.calibrate import LEVELS
from autoscaler.capacity import (
    CapacitySettings,
    Reason,
    ScaleDownWindow,
    decide,
    headroom,
    pods_for,
)
from autoscaler.safety import Observation

SETTINGS = CapacitySettings(pod_capacity=10.0, min_replicas=2, max_replicas=50, hold_limit=10)
LEVEL = 0.9


def _band(peak: float, *, sigma: float = 5.0, failure: str | None = None) -> Band:
    quantiles = tuple(float(p > 0.5) for p in LEVELS)  # 0 at the median, 1 sigma above it
    return Band(peak, sigma, peak, "test", quantiles, failure)


def _obs(value: float, *, last_good: float | None = None, age: int = 0) -> Observation:
    good = value if last_good is None else last_good
    return Observation(value, good, age, recent_max=max(good, 1.0))


def _decide(band: Band | None, obs: Observation, current: int, bad: str | None = None):  # type: ignore[no-untyped-def]
    return decide(
        SETTINGS,
        band=band,
        observation=obs,
        bad_data=bad,
        current=current,
        window=ScaleDownWindow(1),
        level=LEVEL,
    )


def test_upper_forecast_over_the_lead_time_sets_replicas() -> None:
    decision = _decide(_band(195.0), _obs(100.0), current=10)
    assert decision.reason is Reason.PREDICTIVE
    assert decision.replicas == 20  # (195 + 1 * 5) / 10


def test_reactive_floor_wins_when_the_forecast_is_lower() -> None:
    decision = _decide(_band(50.0), _obs(301.0), current=10)
    assert decision.reason is Reason.REACTIVE_FLOOR
    assert decision.replicas == 31


def test_failing_model_falls_back_to_the_reactive_rule_and_says_why() -> None:
    decision = _decide(_band(500.0, failure="refit failed: boom"), _obs(120.0), current=40)
    assert decision.reason is Reason.MODEL_FALLBACK
    assert decision.replicas == 12
    assert "refit failed: boom" in decision.detail
    nan_band = _decide(_band(math.nan), _obs(120.0), current=40)
    assert nan_band.reason is Reason.MODEL_FALLBACK


def test_bad_data_never_scales_down() -> None:
    decision = _decide(_band(10.0), _obs(math.nan, last_good=30.0, age=1), 40, bad="missing")
    assert decision.reason is Reason.BAD_DATA_HOLD
    assert decision.replicas == 40
    assert "missing" in decision.detail


def test_a_hold_lasts_at_most_the_limit_then_the_last_good_value_decides() -> None:
    held = _decide(_band(10.0), _obs(math.nan, last_good=30.0, age=10), 40, bad="stale")
    assert held.reason is Reason.BAD_DATA_HOLD
    assert held.replicas == 40
    floor = _decide(_band(10.0), _obs(math.nan, last_good=30.0, age=11), 40, bad="stale")
    assert floor.reason is Reason.BAD_DATA_FLOOR
    assert floor.replicas == 3  # 30 requests at 10 per pod, no longer the 40 held
    assert "no good data for 11 intervals (stale)" in floor.detail
    never = _decide(None, _obs(math.nan, last_good=math.nan, age=50), 40, bad="none yet")
    assert never.reason is Reason.BAD_DATA_HOLD  # nothing good to size from: keep holding


def test_the_level_moves_the_upper_bound() -> None:
    low = decide(
        SETTINGS,
        band=_band(188.0),
        observation=_obs(100.0),
        bad_data=None,
        current=10,
        window=ScaleDownWindow(1),
        level=0.5,
    )
    assert low.replicas == 19  # 188 + 0 * 5: the median
    assert _decide(_band(188.0), _obs(100.0), current=10).replicas == 20  # 193 at 0.9
    assert "at level 0.9" in _decide(_band(196.0), _obs(100.0), current=10).detail


def test_bad_data_still_scales_up_to_what_the_last_good_value_needs() -> None:
    decision = _decide(None, _obs(math.nan, last_good=300.0, age=1), 10, bad="missing")
    assert decision.replicas == 30


def test_scale_down_waits_for_the_stabilisation_window() -> None:
    window = ScaleDownWindow(3)
    seen = [
        decide(
            SETTINGS,
            band=_band(peak),
            observation=_obs(10.0),
            bad_data=None,
            current=30,
            window=window,
            level=LEVEL,
        ).replicas
        for peak in (295.0, 95.0, 95.0, 95.0)
    ]
    assert seen == [30, 30, 30, 10]


def test_replicas_stay_within_min_and_max() -> None:
    assert _decide(_band(1e9), _obs(1e9), current=10).replicas == 50
    assert _decide(_band(0.0), _obs(0.0), current=10).replicas == 2
    assert _decide(None, _obs(math.nan, last_good=math.nan, age=5), 99, bad="x").replicas == 50


def test_pods_for_saturates_and_rounds_up() -> None:
    assert pods_for(10.0, 10.0) == 1
    assert pods_for(10.5, 10.0) == 2
    assert pods_for(0.0, 10.0) == 0
    assert pods_for(math.inf, 1.0) >= 10**9


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pod_capacity": 0.0}, "pod_capacity must be a positive number"),
        ({"pod_capacity": 1.0, "min_replicas": 5, "max_replicas": 4}, "min_replicas <= max"),
        ({"pod_capacity": 1.0, "shortfall_budget": 0.5}, r"budget must be in \(0, 0.5\)"),
        ({"pod_capacity": 1.0, "hold_limit": 0}, "hold_limit must be >= 1"),
        ({"pod_capacity": 1.0, "reactive_target": 0.0}, r"reactive_target must be in \(0, 1\]"),
    ],
)
def test_settings_are_validated(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CapacitySettings(**kwargs)  # type: ignore[arg-type]


def test_headroom_covers_the_horizon_forecast_beyond_the_replicas_now() -> None:
    band = Band(
        100.0,
        5.0,
        300.0,
        "test",
        tuple(float(p > 0.5) for p in LEVELS),
        horizon_sigma=20.0,
        horizon_quantiles=tuple(float(p > 0.5) for p in LEVELS),
    )
    # 300 + 1 * 20 at the level 0.9 = 320 requests: 32 pods at 10 each, 10 running now
    assert headroom(SETTINGS, band, replicas=10, level=0.9) == 22
    assert headroom(SETTINGS, band, replicas=10, level=0.5) == 20  # the median: 300
    assert headroom(SETTINGS, band, replicas=40, level=0.9) == 0  # the forecast is covered
    assert headroom(SETTINGS, band, replicas=45, level=0.9, minimum=3) == 3  # a floor of warm pods
    surge = Band(
        100.0,
        5.0,
        1000.0,
        "test",
        band.quantiles,
        horizon_sigma=20.0,
        horizon_quantiles=band.horizon_quantiles,
    )
    assert headroom(SETTINGS, surge, replicas=10, level=0.9) == 40  # never past max_replicas (50)
    failed = Band(100.0, 5.0, 300.0, "test", (), failure="no model")
    assert headroom(SETTINGS, failed, replicas=10, level=0.9, minimum=1) == 1

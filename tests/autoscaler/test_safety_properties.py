"""Safety rules over hostile series (hypothesis): bounds always, no scale-down on bad data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autoscaler.capacity import CapacitySettings, Reason, reactive
from autoscaler.controller import AutoscalerSettings, PredictiveAutoscaler
from autoscaler.safety import Observation, SafetySettings, check

LOW, HIGH = 2, 40
CAPACITY = CapacitySettings(pod_capacity=10.0, min_replicas=LOW, max_replicas=HIGH)
SETTINGS = AutoscalerSettings(capacity=CAPACITY, step=pd.Timedelta("1min"))

hostile_value = st.one_of(
    st.floats(min_value=0, max_value=1e4),
    st.just(math.nan),
    st.just(math.inf),
    st.just(-math.inf),
    st.floats(min_value=-1e6, max_value=-1e-3),
    st.just(0.0),
    st.floats(min_value=1e6, max_value=1e300),
)


@st.composite
def hostile_series(draw: st.DrawFn) -> list[float]:
    kind = draw(st.sampled_from(["mixed", "constant", "zeros", "spiky", "gappy"]))
    n = draw(st.integers(min_value=1, max_value=60))
    if kind == "constant":
        return [draw(st.floats(min_value=0, max_value=1e4))] * n
    if kind == "zeros":
        return [0.0] * n
    if kind == "spiky":
        base = draw(st.lists(st.floats(min_value=0, max_value=100), min_size=n, max_size=n))
        spikes = draw(st.lists(st.integers(0, n - 1), max_size=3))
        return [1e12 if i in spikes else v for i, v in enumerate(base)]
    if kind == "gappy":
        base = draw(st.lists(st.floats(min_value=0, max_value=500), min_size=n, max_size=n))
        return [math.nan if i % 3 == 0 else v for i, v in enumerate(base)]
    return draw(st.lists(hostile_value, min_size=n, max_size=n))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=hostile_series(), start=st.integers(min_value=LOW - 1, max_value=HIGH + 5))
def test_decisions_stay_in_bounds_and_never_drop_on_bad_data(
    values: list[float], start: int
) -> None:
    autoscaler = PredictiveAutoscaler(SETTINGS, replicas=start)
    times = pd.date_range("2024-01-01", periods=len(values), freq="1min")
    for time, value in zip(times, values, strict=True):
        before = autoscaler.replicas
        decision = autoscaler.step(time, value)
        assert LOW <= decision.replicas <= HIGH
        if decision.reason is Reason.BAD_DATA_HOLD:
            assert decision.replicas >= min(before, HIGH)
            assert decision.detail.startswith("holding: ")
        elif decision.reason is Reason.BAD_DATA_FLOOR:  # a hold ends after hold_limit intervals
            last_good = autoscaler.tracker.last_good
            assert autoscaler.tracker.age > CAPACITY.hold_limit
            assert decision.replicas >= min(reactive(last_good, CAPACITY), HIGH)
            assert decision.detail.startswith("no good data for ")
        else:
            assert math.isfinite(value)
            assert value >= 0
            assert decision.replicas >= min(reactive(value, CAPACITY), HIGH)


@settings(max_examples=100, deadline=None)
@given(value=hostile_value, last_good=st.floats(min_value=0, max_value=1e4), age=st.integers(0, 10))
def test_non_finite_or_negative_metrics_are_always_flagged(
    value: float, last_good: float, age: int
) -> None:
    reason = check(
        Observation(value, last_good, age, recent_max=last_good),
        SafetySettings(),
        pod_capacity=10.0,
        ceiling=1e6,
    )
    if not math.isfinite(value) or value < 0 or value > 1e6:
        assert reason is not None


def test_stale_metrics_are_named_as_stale() -> None:
    reason = check(
        Observation(math.nan, 5.0, 10, 5.0),
        SafetySettings(stale_after=3),
        pod_capacity=1,
        ceiling=9,
    )
    assert reason == "metric is stale: no sample for 10 intervals"


def test_an_absurd_spike_is_held_and_kept_out_of_the_forecast() -> None:
    autoscaler = PredictiveAutoscaler(SETTINGS, replicas=5)
    times = pd.date_range("2024-01-01", periods=40, freq="1min")
    values = np.full(40, 50.0)
    values[30] = 1e9
    reasons = [autoscaler.step(t, float(v)).reason for t, v in zip(times, values, strict=True)]
    assert reasons[30] is Reason.BAD_DATA_HOLD
    assert autoscaler.replicas < HIGH
    assert autoscaler.forecaster.band().peak < 100

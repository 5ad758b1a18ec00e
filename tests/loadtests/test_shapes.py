"""Load shapes and duration parsing."""

from __future__ import annotations

import pytest

from loadtests.shapes import ShapeSpec, parse_duration, ramp, smoke, soak, spike

SPEC = ShapeSpec(users=50, duration_s=100)


def test_smoke_holds_all_users_then_stops() -> None:
    # SPEC: 50 users for 100 s; they arrive over 5 s (10 % of the run, at most 5 s).
    assert smoke(SPEC, 0) == (50, 10.0)
    assert smoke(SPEC, 99.9) == (50, 10.0)
    assert smoke(SPEC, 100) is None
    assert smoke(ShapeSpec(users=10, duration_s=20), 0) == (10, 5.0)  # over 2 s


def test_ramp_reaches_the_peak_at_80_percent() -> None:
    users, rate = ramp(SPEC, 10) or (0, 0)
    assert users == 50
    assert rate * 80 == pytest.approx(50)
    assert ramp(SPEC, 100) is None


def test_spike_is_a_fifth_then_the_peak_then_a_fifth() -> None:
    assert [(spike(SPEC, t) or (0, 0))[0] for t in (0, 29, 30, 59, 60, 99)] == [
        10,
        10,
        50,
        50,
        10,
        10,
    ]


def test_soak_ramps_over_ten_percent_and_holds() -> None:
    users, rate = soak(SPEC, 50) or (0, 0)
    assert users == 50
    assert rate * 10 == pytest.approx(50)
    assert soak(SPEC, 100) is None


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("5m", 300), ("1h30m", 5400), ("1.5m", 90)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "ten", "5x", "1h30", "0", "m", "5m5m", "30s5m", "1h1h", "5m.", "-5m", "1.2.3s"]
)
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)

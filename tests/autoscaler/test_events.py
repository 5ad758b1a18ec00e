"""Known events: the file and spec format, the calendar, the Mondrian calibration and the floor."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autoscaler.band import Band
from autoscaler.calibrate import LEVELS, CalibrationSettings, PeakCalibrator, upper_score
from autoscaler.capacity import CapacitySettings, Reason, ScaleDownWindow, decide, headroom
from autoscaler.controller import AutoscalerSettings, PredictiveAutoscaler
from autoscaler.errors import EventsError
from autoscaler.events import Event, EventCalendar, load_events, parse_events
from autoscaler.safety import Observation

MINUTE = pd.Timedelta("1min")
START = pd.Timestamp("2024-01-01")
WORLDCUP = Path(__file__).resolve().parents[2] / "autoscaler" / "data" / "worldcup98_matches.yaml"


def _event(start: str, end: str, **extra: float) -> Event:
    return parse_events([{"name": "e", "start": start, "end": end, **extra}])[0]


def test_times_are_read_as_utc() -> None:
    local = _event("1998-06-10T17:30:00+02:00", "1998-06-10T19:30:00+02:00")
    naive = _event("1998-06-10T15:30", "1998-06-10T17:30")
    assert local.start == naive.start == pd.Timestamp("1998-06-10 15:30")
    assert local.end == pd.Timestamp("1998-06-10 17:30")


def test_a_mapping_with_events_and_yaml_datetimes_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "events.yaml"
    path.write_text(
        "events:\n"
        "  - {name: launch, start: 2026-12-24T18:00:00Z, end: 2026-12-24T20:00:00Z, rate: 500}\n"
        "  - {start: 2026-12-31T23:00:00+01:00, end: 2027-01-01T01:00:00+01:00, multiplier: 2}\n"
    )
    launch, new_year = load_events(path)
    assert launch == Event(
        "launch", pd.Timestamp("2026-12-24 18:00"), pd.Timestamp("2026-12-24 20:00"), 500.0
    )
    assert new_year.start == pd.Timestamp("2026-12-31 22:00")
    assert new_year.multiplier == 2.0
    assert new_year.name  # a label is made up when none is given


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"start": "2024-01-01"}, "expected a list"),
        (["2024-01-01"], "events[0]: expected a mapping"),
        ([{"name": "x", "start": "2024-01-01"}], "events[0]: missing end"),
        ([{"start": "2024-01-02", "end": "2024-01-01"}], "is not after start"),
        ([{"start": "2024-01-01", "end": "2024-01-01"}], "is not after start"),
        ([{"start": "soon", "end": "2024-01-01"}], "events[0].start: 'soon' is not an ISO"),
        ([{"start": 5, "end": "2024-01-01"}], "events[0].start: expected an ISO-8601 time"),
        ([{"start": "2024-01-01", "end": "2024-01-02", "rate": 0}], "events[0].rate: must be"),
        ([{"start": "2024-01-01", "end": "2024-01-02", "rate": True}], "expected a number"),
        ([{"start": "2024-01-01", "end": "2024-01-02", "multiplier": -2}], "multiplier: must"),
        ([{"start": "2024-01-01", "end": "2024-01-02", "mult": 2}], "unknown field(s) mult"),
    ],
)
def test_malformed_events_name_the_entry_and_field(items: object, message: str) -> None:
    with pytest.raises(EventsError) as caught:
        parse_events(items)
    assert message in str(caught.value)


def test_an_unreadable_or_invalid_file_is_an_events_error(tmp_path: Path) -> None:
    with pytest.raises(EventsError, match="cannot read events file"):
        load_events(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("events: [unclosed\n")
    with pytest.raises(EventsError, match="not valid YAML"):
        load_events(bad)


def test_the_calendar_finds_events_overlapping_a_window() -> None:
    long = _event("2024-01-01T00:00", "2024-01-03T00:00")
    short = _event("2024-01-02T10:00", "2024-01-02T11:00")
    calendar = EventCalendar([short, long])
    at = pd.Timestamp
    assert calendar.overlapping(at("2024-01-02T10:30"), at("2024-01-02T10:31")) == [long, short]
    # the long event started long before the window: still found
    assert calendar.overlapping(at("2024-01-02T20:00"), at("2024-01-02T20:03")) == [long]
    # half-open: a window ending at the start, or starting at the end, does not overlap
    assert calendar.overlapping(at("2023-12-31T23:00"), at("2024-01-01T00:00")) == []
    assert calendar.overlapping(at("2024-01-03T00:00"), at("2024-01-03T01:00")) == []
    # the operator's clock has a zone: the same instant, the same answer
    aware = at("2024-01-02T11:30+01:00")
    assert calendar.overlapping(aware, aware + MINUTE) == [long, short]
    assert not EventCalendar()
    assert EventCalendar().overlapping(at("2024-01-01"), at("2024-01-02")) == []


def test_an_event_expects_its_rate_or_multiple_of_the_base_whichever_is_more() -> None:
    assert _event("2024-01-01", "2024-01-02", rate=500).expected(100.0) == 500.0
    assert _event("2024-01-01", "2024-01-02", multiplier=3).expected(100.0) == 300.0
    both = _event("2024-01-01", "2024-01-02", rate=500, multiplier=8)
    assert both.expected(100.0) == 800.0
    assert both.expected(math.nan) == 500.0
    assert math.isnan(_event("2024-01-01", "2024-01-02").expected(100.0))
    calendar = EventCalendar([_event("2024-01-01", "2024-01-02", rate=50)])
    assert math.isnan(calendar.expected(pd.Timestamp("2024-01-03"), pd.Timestamp("2024-01-04"), 1))


def test_the_worldcup_file_holds_the_64_matches_of_the_schedule() -> None:
    events = load_events(WORLDCUP)
    assert len(events) == 64
    assert sum(e.name.startswith("group ") for e in events) == 48
    first, final = events[0], events[-1]
    assert first.name == "group A: Brazil v Scotland (Saint-Denis)"
    assert first.start == pd.Timestamp("1998-06-10 15:30")  # 17:30 in France
    assert final.name == "final: Brazil v France (Saint-Denis)"
    assert final.start == pd.Timestamp("1998-07-12 19:00")
    assert all(e.rate is None and e.multiplier is None for e in events)
    # the development window (to 1998-06-09) holds no match: nothing could be tuned on one
    assert min(e.start for e in events) > pd.Timestamp("1998-06-09")
    lengths = {e.end - e.start for e in events}
    assert lengths == {pd.Timedelta("2h"), pd.Timedelta("2h45min")}


def _feed(calibrator: PeakCalibrator, days: int, *, event_error: float) -> None:
    """Forecast 100 every minute; demand is 100 + noise, and ``event_error`` more during a
    daily event at a time of day that moves (so the hourly buckets cannot learn it)."""
    rng = np.random.default_rng(5)
    for i in range(days * 1440):
        time = START + i * MINUTE
        day, minute = divmod(i, 1440)
        begin = (day * 317) % 1300
        event = begin <= minute < begin + 120
        calibrator.forecast(time, 100.0, event=event)
        calibrator.observe(time, 100.0 + rng.normal(0, 5) + (event_error if event else 0.0))


def test_event_windows_are_calibrated_apart() -> None:
    settings = CalibrationSettings(min_scores=50)
    told = PeakCalibrator(settings, step=MINUTE, window=3)
    _feed(told, 4, event_error=60.0)
    noon = START + pd.Timedelta("4D12h")
    ordinary = upper_score(told.quantiles(noon), 0.99)
    during = upper_score(told.quantiles(noon, event=True), 0.99)
    assert during * told.scale(100.0) > 40.0  # the event scores hold the 60 extra
    assert ordinary * told.scale(100.0) < 30.0  # the ordinary hours are not widened by them
    assert during > 2 * ordinary


def test_too_few_event_scores_fall_back_to_the_time_of_day() -> None:
    calibrator = PeakCalibrator(CalibrationSettings(min_scores=50), step=MINUTE, window=1)
    for i in range(200):
        time = START + i * MINUTE
        calibrator.forecast(time, 100.0, event=i < 10)
        calibrator.observe(time, 100.0 + (i % 7))
    assert calibrator.quantiles(START, event=True) == calibrator.quantiles(START)


def _band(**extra: object) -> Band:
    fields: dict[str, object] = {
        "peak": 100.0,
        "sigma": 10.0,
        "horizon": 100.0,
        "model": "m",
        "quantiles": tuple(0.0 for _ in LEVELS),
        "horizon_sigma": 10.0,
        "horizon_quantiles": tuple(0.0 for _ in LEVELS),
    }
    fields.update(extra)
    return Band(**fields)  # type: ignore[arg-type]


def _decide(band: Band, *, bad_data: str | None = None, age: int = 0) -> tuple[int, Reason, str]:
    decision = decide(
        CapacitySettings(pod_capacity=10.0),
        band=band,
        observation=Observation(value=100.0, last_good=100.0, age=age, recent_max=100.0),
        bad_data=bad_data,
        current=10,
        window=ScaleDownWindow(1),
        level=0.99,
    )
    return decision.replicas, decision.reason, decision.detail


def test_an_expected_rate_raises_the_replicas_while_the_event_runs() -> None:
    assert _decide(_band())[:2] == (10, Reason.PREDICTIVE)
    replicas, reason, detail = _decide(_band(event="launch", expected=405.0))
    assert (replicas, reason) == (41, Reason.EVENT)
    assert "event launch expects 405" in detail
    # an event the forecast already covers changes nothing but the detail
    replicas, reason, detail = _decide(_band(event="launch", expected=50.0))
    assert (replicas, reason) == (10, Reason.PREDICTIVE)
    assert "event launch" in detail


def test_every_rule_covers_what_a_running_event_expects() -> None:
    """The schedule does not depend on the metric or the model: a fallback, a hold and the floor
    after a long hold all cover the event, and say so."""
    failing = _band(failure="3 forecast errors observed, 10 needed")
    assert _decide(failing)[:2] == (10, Reason.MODEL_FALLBACK)
    replicas, reason, detail = _decide(_band(failure="x", event="launch", expected=405.0))
    assert (replicas, reason) == (41, Reason.EVENT)
    assert detail == "reactive fallback: x; event launch expects 405"
    held = _band(event="launch", expected=405.0)
    assert _decide(held, bad_data="NaN")[:2] == (41, Reason.EVENT)
    assert _decide(held, bad_data="NaN", age=50)[:2] == (41, Reason.EVENT)
    assert _decide(_band(), bad_data="NaN", age=50)[:2] == (10, Reason.BAD_DATA_FLOOR)


def test_headroom_covers_what_an_event_within_the_horizon_expects() -> None:
    settings = CapacitySettings(pod_capacity=10.0)
    assert headroom(settings, _band(), replicas=10, level=0.99) == 0
    assert headroom(settings, _band(horizon_expected=600.0), replicas=10, level=0.99) == 50
    no_bound = _band(horizon=math.nan, horizon_expected=600.0)
    assert headroom(settings, no_bound, replicas=10, level=0.99) == 50
    untrusted = _band(failure="x", horizon_expected=600.0)
    assert headroom(settings, untrusted, replicas=10, level=0.99) == 50


def test_the_autoscaler_scales_ahead_of_an_event_with_a_rate() -> None:
    """Pods are asked for one start-up delay before the event starts, and let go after it."""
    begin = START + pd.Timedelta("3h")
    launch = Event("launch", begin, begin + pd.Timedelta("30min"), rate=2000.0)
    settings = AutoscalerSettings(
        capacity=CapacitySettings(pod_capacity=100.0, max_replicas=100, scale_down_window=1),
        events=(launch,),
    )
    autoscaler = PredictiveAutoscaler(settings)
    rng = np.random.default_rng(1)
    seen: dict[pd.Timestamp, tuple[int, str]] = {}
    for i in range(4 * 60):
        time = START + i * MINUTE
        decision = autoscaler.step(time, float(rng.poisson(300)))
        seen[time + MINUTE] = (decision.replicas, decision.reason.value)
    lead = settings.lead_steps
    assert seen[begin - (lead + 1) * MINUTE][1] != "event"
    for minute in range(-lead, 30):
        assert seen[begin + minute * MINUTE] == (20, "event")
    assert seen[begin + 40 * MINUTE][0] < 10

"""Trace files: every malformed input is named with its line; gaps stay gaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autoscaler.errors import SeriesError, TraceError
from autoscaler.series import EPOCH, parse_time, read_trace, resample


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "trace.csv"
    path.write_text(text)
    return path


def test_iso_trace_with_a_gap_becomes_a_regular_series_with_nan(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "timestamp,requests\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,2\n"
        "2024-01-01T00:03:00Z,4\n",
    )
    series = read_trace(path)
    assert series.index.freq == pd.Timedelta("1min")
    assert list(series.index) == list(pd.date_range("2024-01-01", periods=4, freq="1min"))
    np.testing.assert_array_equal(series.to_numpy(), [1, 2, np.nan, 4])


def test_offset_timestamps_are_seconds_from_the_epoch(tmp_path: Path) -> None:
    series = read_trace(_csv(tmp_path, "timestamp,requests\n0,1\n60,0\n120,3\n"))
    assert series.index[0] == EPOCH
    assert series.index[-1] == EPOCH + pd.Timedelta("2min")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,count\n0,1\n", "trace.csv:1: expected the header 'timestamp,requests'"),
        ("timestamp,requests\n0,1\n60,2\n30,3\n", "trace.csv:4: out-of-order timestamp '30'"),
        ("timestamp,requests\n0,1\n60,2\n60,3\n", "trace.csv:4: duplicate timestamp '60'"),
        ("timestamp,requests\n0,1\n60,x\n", "trace.csv:3: requests 'x' is not a number"),
        ("timestamp,requests\n0,1\n60,-2\n", "trace.csv:3: requests '-2' must be a finite count"),
        ("timestamp,requests\n0,1\n60\n", "trace.csv:3: expected 2 columns, found 1"),
        ("timestamp,requests\n0,1\nyesterday,2\n", "trace.csv:3: timestamp 'yesterday' mixes"),
        ("timestamp,requests\n2024-01-01,1\nnope,2\n", "trace.csv:3: timestamp 'nope' is not ISO"),
        ("timestamp,requests\n0,1\n", "needs at least 2 rows of data, found 1"),
    ],
)
def test_bad_trace_names_the_line_and_reason(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TraceError) as caught:
        read_trace(_csv(tmp_path, text))
    assert message in str(caught.value)


def test_bad_iso_timestamp_is_named(tmp_path: Path) -> None:
    text = "timestamp,requests\n2024-01-01T00:00:00Z,1\n2024-13-45T00:00:00Z,2\n"
    with pytest.raises(TraceError, match=r"trace.csv:3: timestamp .* is not ISO-8601"):
        read_trace(_csv(tmp_path, text))


def test_missing_file_is_a_trace_error(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="does not exist"):
        read_trace(tmp_path / "absent.csv")


def test_resample_sums_whole_bins_and_marks_incomplete_bins_unknown() -> None:
    index = pd.date_range("2024-01-01", periods=8, freq="1min")
    series = pd.Series([1, 2, 3, 4, 5, np.nan, 7, 8], index=index, dtype=float)
    out = resample(series, "4min")
    np.testing.assert_array_equal(out.to_numpy(), [10, np.nan])
    assert out.index.freq == pd.Timedelta("4min")


def test_resample_rejects_rules_that_do_not_divide() -> None:
    series = pd.Series([1.0] * 4, index=pd.date_range("2024-01-01", periods=4, freq="2min"))
    with pytest.raises(SeriesError, match="multiple of the series step"):
        resample(series, "3min")
    with pytest.raises(SeriesError, match="not a duration"):
        resample(series, "weekly-ish")


def test_parse_time_accepts_iso_seconds_and_relative() -> None:
    series = pd.Series([1.0, 2.0], index=pd.date_range("2024-01-01", periods=2, freq="1D"))
    assert parse_time("2024-01-02T00:00:00Z", series) == pd.Timestamp("2024-01-02")
    assert parse_time("86400", series) == EPOCH + pd.Timedelta("1D")
    assert parse_time("+16d", series) == pd.Timestamp("2024-01-17")
    with pytest.raises(SeriesError, match="neither ISO-8601"):
        parse_time("soon", series)

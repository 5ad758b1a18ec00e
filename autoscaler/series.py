"""Request-rate series: reading trace files, regular grids, resampling and window slicing.

What belongs here: turning a ``timestamp,requests`` CSV into a regular :class:`pandas.Series`
(with NaN where the trace has no rows), summing it onto a coarser grid, and parsing the times a
user gives for a window. Timestamps are either ISO-8601 or integer seconds from the trace start;
offsets are placed on the Unix epoch so that both kinds share one time axis.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import Tick

from .errors import SeriesError, TraceError

EPOCH = pd.Timestamp("1970-01-01")
"""Where integer-second offsets are placed on the time axis."""

_COLUMNS = ("timestamp", "requests")


def read_trace(path: Path) -> pd.Series:
    """Read a ``timestamp,requests`` CSV into a regular series (NaN where rows are absent).

    Raises :class:`TraceError` naming the file and line for every malformed input.
    """
    if not path.is_file():
        raise TraceError(f"trace file {path} does not exist")
    stamps: list[str] = []
    values: list[float] = []
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != _COLUMNS:
            found = ",".join(header or [])
            raise TraceError(f"{path}:1: expected the header 'timestamp,requests', found {found!r}")
        for line, row in enumerate(reader, start=2):
            if len(row) != 2:
                raise TraceError(f"{path}:{line}: expected 2 columns, found {len(row)}")
            stamps.append(row[0].strip())
            values.append(_parse_count(row[1].strip(), f"{path}:{line}"))
    if len(stamps) < 2:
        raise TraceError(f"{path}: needs at least 2 rows of data, found {len(stamps)}")
    index = _parse_stamps(stamps, path)
    gaps = np.diff(index.asi8)
    if (gaps <= 0).any():
        bad = int(np.argmax(gaps <= 0)) + 1
        kind = "duplicate" if gaps[bad - 1] == 0 else "out-of-order"
        raise TraceError(f"{path}:{bad + 2}: {kind} timestamp {stamps[bad]!r}")
    return regularise(pd.Series(values, index=index, name="requests"))


def regularise(series: pd.Series) -> pd.Series:
    """Put a sorted series on its regular grid (the smallest spacing); absent bins become NaN."""
    index = pd.DatetimeIndex(series.index).as_unit("ns")
    step = pd.Timedelta(int(np.diff(index.asi8).min()), unit="ns")
    grid = pd.date_range(index[0], index[-1], freq=step, unit="ns")
    if not index.isin(grid).all():
        raise TraceError(f"timestamps are not on a regular {step} grid")
    values = pd.Series(series.to_numpy(dtype=float), index=index)
    return values.reindex(grid).rename("requests")


def step_of(series: pd.Series) -> pd.Timedelta:
    """The spacing of a regular series."""
    freq = pd.DatetimeIndex(series.index).freq
    if not isinstance(freq, Tick):
        raise SeriesError("series has no regular frequency; use regularise() first")
    return pd.Timedelta(freq)


def resample(series: pd.Series, rule: str) -> pd.Series:
    """Sum requests onto a coarser grid; a bin with any absent interval is NaN (not a low count)."""
    try:
        target = pd.Timedelta(rule)
    except ValueError as exc:
        raise SeriesError(f"resample rule {rule!r} is not a duration such as '15min'") from exc
    native = step_of(series)
    if target < native or target % native != pd.Timedelta(0):
        raise SeriesError(f"resample rule {rule} must be a multiple of the series step {native}")
    per_bin = int(target / native)
    out = series.resample(target, origin="start").sum(min_count=per_bin)
    return out.asfreq(to_offset(target)).rename("requests")


def parse_time(text: str, series: pd.Series) -> pd.Timestamp:
    """Parse a window bound: ISO-8601, seconds (offset traces), or ``+2d`` after the trace start."""
    text = text.strip()
    if text.startswith("+"):
        try:
            return pd.Timestamp(series.index[0]) + _duration(text[1:])
        except ValueError as exc:
            raise SeriesError(f"time {text!r}: '+' must be followed by a duration") from exc
    if _is_number(text):
        return EPOCH + pd.Timedelta(seconds=float(text))
    try:
        stamp = pd.Timestamp(text)
    except ValueError as exc:
        raise SeriesError(f"time {text!r} is neither ISO-8601, seconds nor +duration") from exc
    return stamp.tz_convert(None) if stamp.tzinfo is not None else stamp


def _duration(text: str) -> pd.Timedelta:
    """A duration such as ``16d``, ``16D``, ``12h`` or ``90min``."""
    text = text.strip()
    if text.endswith("d") and _is_number(text[:-1]):
        text = text[:-1] + "D"
    return pd.Timedelta(text)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_stamps(stamps: list[str], path: Path) -> pd.DatetimeIndex:
    offsets = [_is_number(s) for s in stamps]
    if any(offsets) and not all(offsets):
        line = offsets.index(not offsets[0]) + 2
        raise TraceError(f"{path}:{line}: timestamp {stamps[line - 2]!r} mixes offsets and dates")
    if offsets[0]:
        seconds = np.array([float(s) for s in stamps])
        if not np.isfinite(seconds).all():
            line = int(np.argmax(~np.isfinite(seconds))) + 2
            raise TraceError(f"{path}:{line}: timestamp {stamps[line - 2]!r} is not finite")
        return pd.DatetimeIndex(EPOCH + pd.to_timedelta(seconds, unit="s")).as_unit("ns")
    parsed = pd.to_datetime(pd.Series(stamps), format="ISO8601", utc=True, errors="coerce")
    if parsed.isna().any():
        line = int(np.argmax(parsed.isna().to_numpy())) + 2
        raise TraceError(f"{path}:{line}: timestamp {stamps[line - 2]!r} is not ISO-8601")
    return pd.DatetimeIndex(parsed).tz_convert(None).as_unit("ns")


def _parse_count(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise TraceError(f"{where}: requests {text!r} is not a number") from exc
    if not math.isfinite(value) or value < 0:
        raise TraceError(f"{where}: requests {text!r} must be a finite count >= 0")
    return value

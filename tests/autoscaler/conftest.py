"""Seeded series shared by the autoscaler tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def seasonal_series(
    days: float, *, step: str = "15min", level: float = 100.0, seed: int = 0, noise: float = 5.0
) -> pd.Series:
    """Daily and weekly cycle plus Gaussian noise, on a regular grid from a Monday."""
    freq = pd.Timedelta(step)
    n = int(pd.Timedelta(days=days) / freq)
    index = pd.date_range("2024-01-01", periods=n, freq=freq)
    hours = np.arange(n) * freq / pd.Timedelta("1h")
    daily = 0.5 * level * np.sin(2 * np.pi * hours / 24)
    weekly = 0.2 * level * np.sin(2 * np.pi * hours / (24 * 7))
    rng = np.random.default_rng(seed)
    values = np.maximum(level + daily + weekly + rng.normal(0, noise, n), 0.0)
    return pd.Series(values, index=index, name="requests")


def write_trace(path: Path, series: pd.Series, *, offsets: bool = False) -> Path:
    """Write a series as a ``timestamp,requests`` CSV (ISO or seconds from the start)."""
    lines = ["timestamp,requests"]
    start = series.index[0]
    for stamp, value in series.items():
        assert isinstance(stamp, pd.Timestamp)
        when = str(int((stamp - start).total_seconds())) if offsets else stamp.isoformat() + "Z"
        lines.append(f"{when},{value:g}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def daily_trace() -> pd.Series:
    """Three days of 1-minute Poisson demand with a daily cycle (seeded)."""
    n = 3 * 1440
    index = pd.date_range("2024-03-04", periods=n, freq="1min")
    rate = 300 + 200 * np.sin(2 * np.pi * np.arange(n) / 1440)
    counts = np.random.default_rng(7).poisson(rate).astype(float)
    return pd.Series(counts, index=index, name="requests")

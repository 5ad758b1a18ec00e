"""The OpenMetrics export used to backfill Prometheus with a trace."""

from __future__ import annotations

import numpy as np
import pandas as pd

from autoscaler.prometheus import to_openmetrics


def test_gauge_lines_in_seconds_with_gaps_skipped_and_eof() -> None:
    index = pd.date_range("1995-07-01T04:00", periods=3, freq="1min")
    text = to_openmetrics(pd.Series([42.0, np.nan, 0.5], index=index), "reqs")
    assert text.splitlines() == [
        "# TYPE reqs gauge",
        "reqs 42 804571200",
        "reqs 0.5 804571320",
        "# EOF",
    ]

"""The one adapter to Prometheus: PromQL range queries in, a regular request series out.

What belongs here: :class:`PrometheusSource` (the only autoscaler module that imports
``prometheus_api_client``) and :func:`to_openmetrics`, which writes a series in the text format
``promtool tsdb create-blocks-from openmetrics`` backfills. Range queries are split so that no
query asks for more than Prometheus' 11,000 points; steps with no sample come back as NaN.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from .errors import MetricsSourceError

MAX_POINTS = 10_000
"""Points per range query (Prometheus refuses more than 11,000 per series)."""


class PrometheusSource:
    """Read one series per PromQL expression from the Prometheus at ``url``."""

    def __init__(self, url: str, *, timeout: float = 30.0, retries: int = 2) -> None:
        self.url = url.rstrip("/")
        retry = Retry(total=retries, backoff_factor=0.2, status_forcelist=(502, 503, 504))
        self.client = PrometheusConnect(
            url=self.url, disable_ssl=True, timeout=int(timeout), retry=retry
        )

    def range(
        self, query: str, *, start: pd.Timestamp, end: pd.Timestamp, step: pd.Timedelta
    ) -> pd.Series:
        """Values of ``query`` at ``start``, ``start + step``, ... before ``end`` (NaN for gaps).

        The query must return at most one series (aggregate it, e.g. with ``sum(...)``).
        """
        if step < pd.Timedelta("1s") or step % pd.Timedelta("1s") != pd.Timedelta(0):
            raise MetricsSourceError(f"step must be a whole number of seconds, got {step}")
        grid = pd.date_range(start, end, freq=step, inclusive="left", unit="ns")
        if len(grid) == 0:
            raise MetricsSourceError(f"the range {start} .. {end} holds no {step} step")
        found: dict[int, float] = {}
        for chunk in range(0, len(grid), MAX_POINTS):
            times = grid[chunk : chunk + MAX_POINTS]
            found.update(self._query(query, times[0], times[-1], step))
        values = np.array([found.get(int(t.value // 10**9), math.nan) for t in grid])
        if np.isnan(values).all():
            raise MetricsSourceError(
                f"{query!r} returned no samples between {start} and {end} from {self.url}"
            )
        return pd.Series(values, index=grid, name="requests")

    def _query(
        self, query: str, first: pd.Timestamp, last: pd.Timestamp, step: pd.Timedelta
    ) -> dict[int, float]:
        try:
            result = self.client.custom_query_range(
                query,
                start_time=_utc(first),
                end_time=_utc(last),
                step=f"{int(step.total_seconds())}s",
            )
        except (requests.RequestException, PrometheusApiClientException) as exc:
            raise MetricsSourceError(f"Prometheus at {self.url} failed: {exc}") from exc
        if len(result) > 1:
            raise MetricsSourceError(
                f"{query!r} returned {len(result)} series; aggregate it to one, e.g. sum(...)"
            )
        if not result:
            return {}
        return {int(float(t)): float(v) for t, v in result[0]["values"]}

    def __repr__(self) -> str:
        return f"PrometheusSource({self.url!r})"


def to_openmetrics(series: pd.Series, metric: str) -> str:
    """The series as an OpenMetrics gauge (NaN rows skipped), ready for ``promtool`` backfill."""
    lines = [f"# TYPE {metric} gauge"]
    seconds = pd.DatetimeIndex(series.index).as_unit("ns").asi8 // 10**9
    for second, value in zip(seconds, series.to_numpy(dtype=float), strict=True):
        if math.isfinite(value):
            lines.append(f"{metric} {value:.17g} {int(second)}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _utc(stamp: pd.Timestamp) -> datetime:
    return stamp.to_pydatetime().replace(tzinfo=UTC)

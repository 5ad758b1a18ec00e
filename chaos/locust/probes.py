"""Locust probes: what a load test measured so far, read from Locust's CSV statistics.

Point ``stats_csv`` at ``PREFIX_stats.csv`` (or just ``PREFIX``) of a Locust run started with
``--csv PREFIX``; Locust rewrites that file every second while it runs, so the probes work
mid-run (steady state, during the method) and afterwards (the file then lacks at most the run's
last second). ``name`` is a request name or ``Aggregated`` (all requests); ``method`` picks one
row when a name is used with several HTTP methods. No requests yet raises ``NoDataError`` rather
than reading as healthy.

No ``from __future__ import annotations`` here: ``chaos discover`` reads the real annotations.
"""

from ..errors import NoDataError
from .stats import AGGREGATED, number, percentile_column, read_row, stats_path

__all__ = ["failure_ratio", "percentile_ms", "requests", "requests_per_second"]


def requests(stats_csv: str, name: str = AGGREGATED, method: str = "") -> int:
    """Number of requests Locust has made under ``name`` (default: all of them)."""
    return int(number(read_row(stats_csv, name, method), "Request Count", stats_csv))


def failure_ratio(stats_csv: str, name: str = AGGREGATED, method: str = "") -> float:
    """Fraction of Locust's requests under ``name`` that failed (0.0 to 1.0)."""
    row = read_row(stats_csv, name, method)
    total = number(row, "Request Count", stats_csv)
    if total <= 0:
        raise NoDataError(
            f"no requests named {name!r} in {stats_path(stats_csv)} yet: nothing to judge",
            hint="is the load test running?",
        )
    return number(row, "Failure Count", stats_csv) / total


def percentile_ms(
    stats_csv: str, percentile: float = 0.99, name: str = AGGREGATED, method: str = ""
) -> float:
    """Response time at ``percentile`` (a fraction, 0.99 for p99) under ``name``, in ms.

    Locust reports 50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99 and 100 % by default.
    """
    column = percentile_column(percentile)
    return number(read_row(stats_csv, name, method), column, stats_csv)


def requests_per_second(stats_csv: str, name: str = AGGREGATED, method: str = "") -> float:
    """Locust's current request rate under ``name`` (its ``Requests/s`` column)."""
    return number(read_row(stats_csv, name, method), "Requests/s", stats_csv)

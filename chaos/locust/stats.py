"""Reading Locust's ``--csv PREFIX`` statistics file (``PREFIX_stats.csv``), without locust.

Locust 2.47 rewrites ``PREFIX_stats.csv`` in place every second (``CSV_STATS_INTERVAL_SEC``:
seek to the first data row, write every row, truncate), so mid-run the file is at most about a
second old, and a reader can meet it half rewritten: :func:`read_row` retries briefly before it
gives up. Locust does not rewrite it once more when it quits, so the final file can miss the
requests of the run's last second (``--json-file`` holds the exact final numbers).

Columns: Type, Name, Request Count, Failure Count, Median/Average/Min/Max Response Time, Average
Content Size, Requests/s, Failures/s, then one column per reported percentile (``50%`` ...
``99%``, ``99.9%``, ``100%``) holding milliseconds or ``N/A``.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

from ..errors import ChaosError, NoDataError

AGGREGATED = "Aggregated"
"""The name of Locust's total row."""

RETRIES = 5
"""Reads of a file met mid-write before giving up."""

RETRY_DELAY_S = 0.25
"""Pause between those reads."""


def stats_path(stats_csv: str) -> Path:
    """The stats file: ``stats_csv`` itself, or ``<stats_csv>_stats.csv`` when given the prefix."""
    path = Path(stats_csv).expanduser()
    if not path.exists() and not path.name.endswith("_stats.csv"):
        prefixed = path.with_name(f"{path.name}_stats.csv")
        if prefixed.exists():
            return prefixed
    return path


def percentile_column(percentile: float) -> str:
    """The CSV column of a percentile given as a fraction: 0.99 is ``99%``, 0.999 ``99.9%``."""
    if not 0 < percentile <= 1:
        raise ChaosError(
            f"percentile must be a fraction in (0, 1], got {percentile}",
            hint="write the 99th percentile as 0.99",
        )
    value = percentile * 100
    return f"{int(value)}%" if value.is_integer() else f"{round(value, 6)}%"


def read_row(stats_csv: str, name: str = AGGREGATED, method: str = "") -> dict[str, str]:
    """The row of request ``name`` (and HTTP ``method``, when given) in Locust's stats file."""
    path = stats_path(stats_csv)
    names: list[str] = []
    for attempt in range(RETRIES):
        rows = _rows(path)
        found = [r for r in rows if r.get("Name") == name and (not method or r["Type"] == method)]
        if any(None in row.values() or None in row for row in found):
            found = []  # a row cut short by a rewrite in progress
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ChaosError(
                f"{len(found)} rows named {name!r} in {path} (one per method)",
                hint="give method, e.g. GET or POST",
            )
        names = sorted({f"{r.get('Type', '')} {r.get('Name', '')}".strip() for r in rows})
        if attempt < RETRIES - 1:
            time.sleep(RETRY_DELAY_S)  # the file may be mid-rewrite
    raise NoDataError(
        f"no request named {name!r}{f' ({method})' if method else ''} in {path} yet"
        + (f"; it has {', '.join(names)}" if names else ""),
        hint="check the name (the Locust request name, or Aggregated for all); "
        "Locust writes the file every second once requests were made",
    )


def number(row: dict[str, str], column: str, path: str) -> float:
    """A numeric cell; NoDataError for ``N/A`` (no requests), ChaosError for a missing column."""
    if column not in row:
        have = [c for c in row if c.endswith("%")]
        raise ChaosError(
            f"{path} has no column {column!r}",
            hint=f"Locust reported these percentiles: {', '.join(have) or 'none'}",
        )
    cell = row[column]
    if cell in ("", "N/A"):
        raise NoDataError(f"{column} of {row.get('Name')!r} in {path} is {cell or 'empty'}")
    try:
        return float(cell)
    except ValueError:
        raise ChaosError(f"{column} of {row.get('Name')!r} in {path} is {cell!r}") from None


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None:
                return []
            if "Name" not in reader.fieldnames or "Request Count" not in reader.fieldnames:
                raise ChaosError(
                    f"{path} is not a Locust stats file (columns {reader.fieldnames[:4]}...)",
                    hint="give the PREFIX_stats.csv Locust writes with --csv PREFIX",
                )
            return list(reader)
    except FileNotFoundError:
        raise ChaosError(
            f"Locust stats file {path} does not exist",
            hint="run Locust with --csv PREFIX (it writes PREFIX_stats.csv) and give that path "
            "or the prefix",
        ) from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ChaosError(f"cannot read Locust stats file {path}: {exc}") from None

"""``librechat-ops backtest``: results as a table, JSON and PNG; bad input as one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import Result
from typer.testing import CliRunner

from librechat_ops.cli import app

from .conftest import write_trace


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, ["backtest", *args], env={"COLUMNS": "200"})


def test_backtest_writes_json_and_plot(tmp_path: Path, daily_trace: pd.Series) -> None:
    trace = write_trace(tmp_path / "trace.csv", daily_trace.iloc[: 6 * 60], offsets=True)
    out, png = tmp_path / "out.json", tmp_path / "out.png"
    done = _run(
        "--trace",
        str(trace),
        "--start",
        "+1h",
        "--end",
        "+5h",
        "--json",
        str(out),
        "--plot",
        str(png),
        "--frontier",
        "--shortfall-budget",
        "0.001",
    )
    assert done.exit_code == 0, done.output
    document = json.loads(out.read_text())
    assert set(document["policies"]) == {"hpa", "hpa_best", "predictive", "oracle"}
    assert document["budget"] == 0.001
    assert "hpa_best (target" in done.stdout
    assert document["window"]["intervals"] == 240
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "predictive" in done.stdout
    assert "goal" in done.stdout
    floor = document["goal"]["floor_vs_hpa_best"]
    assert (
        0
        < floor
        <= document["policies"]["oracle"]["pod_hours"]
        / (document["policies"]["hpa_best"]["pod_hours"])
    )
    assert document["goal"]["reachable"] == (floor <= 0.8)
    assert f"can pay within 0.12 % shortfall is {floor:.2f}x hpa_best's" in " ".join(
        done.stdout.split()
    )


def test_resample_changes_the_control_step(tmp_path: Path, daily_trace: pd.Series) -> None:
    trace = write_trace(tmp_path / "trace.csv", daily_trace.iloc[: 8 * 60])
    out = tmp_path / "out.json"
    done = _run("--trace", str(trace), "--resample", "5min", "--start", "+2h", "--json", str(out))
    assert done.exit_code == 0, done.output
    assert json.loads(out.read_text())["window"]["step_seconds"] == 300


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("timestamp,requests\n0,1\n120,2\n60,3\n", ":4: out-of-order timestamp '60'"),
        ("timestamp,requests\n0,1\n60,1\n60,3\n", ":4: duplicate timestamp '60'"),
        ("when,requests\n0,1\n", ":1: expected the header 'timestamp,requests'"),
    ],
)
def test_bad_trace_is_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    trace = tmp_path / "bad.csv"
    trace.write_text(text)
    done = _run("--trace", str(trace))
    assert done.exit_code == 2
    assert expected in done.stderr
    assert "Traceback" not in done.stderr


def test_too_little_history_names_the_reason(tmp_path: Path, daily_trace: pd.Series) -> None:
    trace = write_trace(tmp_path / "trace.csv", daily_trace.iloc[:120])
    done = _run("--trace", str(trace), "--start", "+5min")
    assert done.exit_code == 2
    assert "of history first" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_file_and_missing_source(tmp_path: Path) -> None:
    missing = _run("--trace", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr
    neither = _run()
    assert neither.exit_code == 2
    assert "exactly one of --trace FILE and --prometheus URL" in neither.stderr


def test_prometheus_needs_a_window() -> None:
    done = _run("--prometheus", "http://127.0.0.1:9")
    assert done.exit_code == 2
    assert "--prometheus needs --start and --end" in done.stderr


def test_hpa_target_out_of_range(tmp_path: Path, daily_trace: pd.Series) -> None:
    trace = write_trace(tmp_path / "trace.csv", daily_trace.iloc[:120])
    done = _run("--trace", str(trace), "--hpa-target", "1.5")
    assert done.exit_code == 2
    assert "--hpa-target must be in (0, 1], got 1.5" in done.stderr


@pytest.mark.parametrize("budget", ["0", "0.5", "-0.01"])
def test_shortfall_budget_out_of_range(tmp_path: Path, daily_trace: pd.Series, budget: str) -> None:
    trace = write_trace(tmp_path / "trace.csv", daily_trace.iloc[:120])
    done = _run("--trace", str(trace), "--shortfall-budget", budget)
    assert done.exit_code == 2
    assert f"--shortfall-budget must be in (0, 0.5), got {float(budget)}" in done.stderr


def test_events_split_the_shortfall_in_table_and_json(
    tmp_path: Path, daily_trace: pd.Series
) -> None:
    trace = write_trace(tmp_path / "trace.csv", daily_trace.iloc[: 8 * 60])
    events = tmp_path / "events.yaml"
    events.write_text(
        "- {name: launch, start: 2024-03-04T03:00:00Z, end: 2024-03-04T04:00:00Z, rate: 900}\n"
        "- {name: later, start: 2024-03-05T03:00:00Z, end: 2024-03-05T04:00:00Z}\n"
    )
    out = tmp_path / "out.json"
    done = _run(
        "--trace", str(trace), "--start", "+2h", "--events", str(events), "--json", str(out)
    )
    assert done.exit_code == 0, done.output
    summary = json.loads(out.read_text())["events"]
    assert (summary["count"], summary["intervals"]) == (1, 60)  # the second is after the window
    assert set(summary["under_provisioned_pct"]) == {"hpa", "hpa_best", "predictive", "oracle"}
    assert "known events: 1 (60 intervals)" in done.stdout
    # 900 requests a minute expected: the predictive policy covers them, so it is never short
    assert summary["under_provisioned_pct"]["predictive"]["during"] == 0.0


def test_a_bad_events_file_is_one_clear_line(tmp_path: Path, daily_trace: pd.Series) -> None:
    trace = write_trace(tmp_path / "trace.csv", daily_trace.iloc[:180])
    events = tmp_path / "events.yaml"
    events.write_text("- {name: launch, start: 2024-03-04T03:00:00Z}\n")
    done = _run("--trace", str(trace), "--events", str(events))
    assert done.exit_code == 2
    assert "events.yaml[0]: missing end" in done.stderr
    assert "each event needs start and end" in done.stderr
    assert "Traceback" not in done.stderr

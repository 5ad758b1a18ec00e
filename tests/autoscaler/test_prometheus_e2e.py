"""A real Prometheus backfilled with a trace gives the same decisions through PromQL as the CSV."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from autoscaler.backtest import BacktestSettings, prepare, run_backtest
from autoscaler.errors import MetricsSourceError
from autoscaler.prometheus import PrometheusSource, to_openmetrics
from autoscaler.series import read_trace
from librechat_ops.cli import app
from librechat_sim.processes import free_port
from tests.prometheus_server import running_prometheus

from .conftest import write_trace

PROMETHEUS, PROMTOOL = Path("/usr/bin/prometheus"), Path("/usr/bin/promtool")
TRACES = Path(__file__).resolve().parents[3] / "shared" / "traces"
METRIC = "librechat_trace_requests"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (PROMETHEUS.exists() and PROMTOOL.exists()), reason="Debian prometheus not installed"
    ),
]


def _slice() -> pd.Series:
    """Six hours of NASA July 1995 (a real trace), or a seeded stand-in when it is absent."""
    nasa = TRACES / "nasa_http_1995_per_minute.csv"
    if nasa.exists():
        return read_trace(nasa).loc["1995-07-10T10:00":"1995-07-10T15:59"]
    index = pd.date_range("1995-07-10T10:00", periods=360, freq="1min", unit="ns")
    return pd.Series(np.random.default_rng(3).poisson(40, 360).astype(float), index=index)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Prometheus on a free loopback port, its TSDB backfilled with the slice."""
    root = tmp_path_factory.mktemp("prometheus")
    with running_prometheus(
        root,
        backfill=to_openmetrics(_slice(), METRIC),
        interval="1h",
        args=["--storage.tsdb.retention.time=100y"],
    ) as server:
        yield server.url


START, END = pd.Timestamp("1995-07-10T11:00"), pd.Timestamp("1995-07-10T16:00")


def test_promql_returns_the_trace_exactly(prometheus: str) -> None:
    expected = _slice()
    got = PrometheusSource(prometheus).range(
        METRIC, start=expected.index[0], end=END, step=pd.Timedelta("60s")
    )
    pd.testing.assert_series_equal(got, expected, check_freq=False, check_names=False)


def test_same_decisions_through_promql_as_from_the_csv(prometheus: str) -> None:
    csv = _slice()
    fetched = PrometheusSource(prometheus).range(
        METRIC, start=START - pd.Timedelta("2h"), end=END, step=pd.Timedelta("60s")
    )
    fetched = fetched.loc[fetched.first_valid_index() :].asfreq("60s")
    settings = BacktestSettings()
    a = run_backtest(prepare(csv, settings, start=START, end=END))
    b = run_backtest(prepare(fetched, settings, start=START, end=END))
    for name in ("hpa", "predictive", "oracle"):
        np.testing.assert_array_equal(
            a.policies[name].supply.replicas, b.policies[name].supply.replicas
        )
        assert a.policies[name].score == b.policies[name].score


def test_cli_reads_prometheus_like_the_csv(prometheus: str, tmp_path: Path) -> None:
    trace = write_trace(tmp_path / "slice.csv", _slice())
    outputs = []
    for source in (["--trace", str(trace)], ["--prometheus", prometheus]):
        out = tmp_path / f"{source[0][2:]}.json"
        args = [*source, "--start", START.isoformat(), "--end", END.isoformat(), "--json", str(out)]
        done = CliRunner().invoke(app, ["backtest", *args])
        assert done.exit_code == 0, done.output
        outputs.append(json.loads(out.read_text()))
    assert outputs[0]["policies"] == outputs[1]["policies"]
    assert outputs[0]["forecast"] == outputs[1]["forecast"]


def test_an_unknown_metric_is_a_clear_error(prometheus: str) -> None:
    with pytest.raises(MetricsSourceError, match="returned no samples"):
        PrometheusSource(prometheus).range(
            "no_such_metric", start=START, end=END, step=pd.Timedelta("60s")
        )


def test_an_unreachable_prometheus_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(MetricsSourceError, match="failed"):
        PrometheusSource(url, timeout=2, retries=0).range(
            METRIC, start=START, end=END, step=pd.Timedelta("60s")
        )

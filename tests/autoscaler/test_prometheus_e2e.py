"""A real Prometheus backfilled with a trace gives the same decisions through PromQL as the CSV."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    data = root / "data"
    metrics = root / "trace.om"
    metrics.write_text(to_openmetrics(_slice(), METRIC))
    subprocess.run(
        [str(PROMTOOL), "tsdb", "create-blocks-from", "openmetrics", str(metrics), str(data)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    config = root / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
    port = _free_port()
    log = (root / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            str(PROMETHEUS),
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=100y",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, root / "prometheus.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"prometheus exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    pytest.fail(f"prometheus at {url} not ready after 60 s: {log.read_text()[-2000:]}")


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
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(MetricsSourceError, match="failed"):
        PrometheusSource(url, timeout=2, retries=0).range(
            METRIC, start=START, end=END, step=pd.Timedelta("60s")
        )

"""A real Prometheus (Debian's ``/usr/bin/prometheus``) for a test, and a metrics target for it.

What belongs here: starting Prometheus on a free loopback port in a temporary directory, with the
rule file, scrape targets and flags a test gives, its TSDB optionally backfilled first with
``promtool tsdb create-blocks-from openmetrics`` (samples from the past, as a Prometheus that
restarted or stopped evaluating a rule still holds them); stopping it; and
:class:`MetricsTarget`, a loopback ``/metrics`` endpoint whose exposition the test computes at
each scrape; :func:`simulator_exposition`, the simulator's indicator series at counts the test
chooses. Reusable by any test that needs Prometheus to evaluate real rules on real scrapes.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from librechat_sim.processes import free_port
from slos import definition
from slos.sli import sli

PROMETHEUS, PROMTOOL = Path("/usr/bin/prometheus"), Path("/usr/bin/promtool")

needs_prometheus = pytest.mark.skipif(
    not (PROMETHEUS.exists() and PROMTOOL.exists()),
    reason="Debian's prometheus package (prometheus, promtool) is not installed",
)
"""Mark for tests that start Prometheus."""


@dataclass
class PrometheusServer:
    """A running Prometheus."""

    url: str
    """Its base URL, ``http://127.0.0.1:<port>``."""
    root: Path
    """Its directory: configuration, rules, data and ``prometheus.log``."""
    process: subprocess.Popen[bytes]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector ``promql`` gives now (the test's own view, not the guard's)."""
        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        with urllib.request.urlopen(url, timeout=10) as response:
            answer = json.load(response)
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def log(self, chars: int = 3000) -> str:
        """The end of its log."""
        return (self.root / "prometheus.log").read_text(errors="replace")[-chars:]


_SELECTOR = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?P<matchers>.*)\}$")
_MATCHER = re.compile(r'(?P<label>[a-z_]+)(?P<op>=~?)"(?P<value>(?:[^"\\]|\\.)*)"')


def _example(regex: str) -> str:
    """One value ``regex`` matches, for the selectors of ``slos.sli``: the first alternative of a
    route list (``/api/convos``), or of a proxy group with the region ``a`` (``convos_a``)."""
    proxies = re.fullmatch(r"\((?P<first>[a-z_]+)(?:\|[a-z_]+)*\)_\[a-z\]\+", regex)
    if proxies:
        return f"{proxies['first']}_a"
    first = regex.split("|", maxsplit=1)[0]
    assert "\\" not in first, f"escaped first alternative in {regex}"
    return first


def series_of(selector: str, **extra: str) -> str:
    """The exposition name and labels of one series ``selector`` (of ``slos.sli``) matches."""
    match = _SELECTOR.match(selector)
    assert match, f"not a selector: {selector}"
    labels: dict[str, str] = {}
    for m in _MATCHER.finditer(match["matchers"]):
        labels[m["label"]] = _example(m["value"]) if m["op"] == "=~" else m["value"]
    text = ",".join(f'{k}="{v}"' for k, v in {**labels, **extra}.items())
    return f"{match['name']}{{{text}}}"


def simulator_exposition(counts: Mapping[str, tuple[float, float]]) -> str:
    """The simulator's ``/metrics`` as the laptop SLO rules read it (the series
    ``slos.sli.sli("simulator", journey)`` names): ``counts`` maps a journey to its requests and
    failures so far; every request is faster than every laptop latency threshold of the journey.
    Journeys that share a route (``ai_inference``, ``time_to_complete``) share its counters: give
    them the same counts."""
    samples: dict[str, float] = {}
    laptop = definition.environment("laptop").journeys
    for journey, (requests, errors) in counts.items():
        series = sli("simulator", journey)
        samples[series_of(series.requests)] = requests
        samples[series_of(series.errors)] = errors
        thresholds = [o.threshold_ms for o in laptop[journey].latency] if journey in laptop else []
        for le in [*(series.le(t) for t in thresholds), "+Inf"]:
            samples[series_of(series.buckets, le=le)] = requests
    return "".join(f"{name} {value!r}\n" for name, value in samples.items())


def openmetrics(samples: Sequence[tuple[str, Mapping[str, str], float, float]]) -> str:
    """OpenMetrics gauges for backfilling: ``(metric, labels, value, unix seconds)`` each."""
    lines, typed = [], set()
    for metric, labels, value, at in samples:
        if metric not in typed:
            lines.append(f"# TYPE {metric} gauge")
            typed.add(metric)
        text = ",".join(f'{k}="{v}"' for k, v in labels.items())
        lines.append(f"{metric}{{{text}}} {value!r} {at:.3f}")
    return "\n".join([*lines, "# EOF"]) + "\n"


@contextmanager
def running_prometheus(
    root: Path,
    *,
    rules: Mapping[str, Any] | None = None,
    targets: Sequence[str] = (),
    backfill: str = "",
    interval: str = "1s",
    args: Sequence[str] = (),
) -> Iterator[PrometheusServer]:
    """Prometheus in ``root``: ``rules`` (a rule file's ``groups:`` document), ``targets``
    (``host:port`` scraped every ``interval``, also the rules' default evaluation interval),
    ``backfill`` (OpenMetrics text written into its TSDB before it starts), extra ``args``.
    Stopped (and waited for) on exit."""
    root.mkdir(parents=True, exist_ok=True)
    data = root / "data"
    if backfill:
        source = root / "backfill.om"
        source.write_text(backfill)
        subprocess.run(
            [str(PROMTOOL), "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
            check=True,
            capture_output=True,
            timeout=120,
        )
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "scrape_configs": [{"job_name": "target", "static_configs": [{"targets": list(targets)}]}]
        if targets
        else [],
    }
    if rules is not None:
        rule_file = root / "rules.yml"
        rule_file.write_text(yaml.safe_dump(dict(rules), sort_keys=False))
        check = subprocess.run(
            [str(PROMTOOL), "check", "rules", str(rule_file)],
            check=False,
            capture_output=True,
            timeout=60,
        )
        assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
        config["rule_files"] = [str(rule_file)]
    (root / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    with (root / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={root / 'prometheus.yml'}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
                *args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = PrometheusServer(f"http://127.0.0.1:{port}", root, process)
    try:
        _wait_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_ready(server: PrometheusServer, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"prometheus exited with {server.process.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(f"{server.url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # not listening yet, or 503 while it loads the TSDB
            pass
        time.sleep(0.2)
    pytest.fail(f"prometheus at {server.url} not ready after {timeout:.0f} s:\n{server.log()}")


class MetricsTarget:
    """A ``/metrics`` endpoint on a free loopback port; ``exposition(seconds since start)`` gives
    the text of each scrape (so counters grow at the rates the test chooses)."""

    def __init__(self, exposition: Callable[[float], str]) -> None:
        started = time.monotonic()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = exposition(time.monotonic() - started).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        """``host:port`` for a scrape config."""
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> MetricsTarget:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

"""verify's alerting, for real: the generated laptop rules in a real Prometheus, a real
Alertmanager, and the webhook; a target whose errors the test turns on and off."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from librechat_ops.verification.alerting import Alerting, AlertSpan
from librechat_sim.haproxy import METRICS_PATH
from slos.definition import environment

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


class _Counters(ThreadingHTTPServer):
    """The simulator front door's metrics (haproxy's, at ``METRICS_PATH``) for the refresh route's
    class: 50 requests a second, all answered 503 while ``failing``."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Metrics)
        self.failing = False
        self.ok = self.bad = 0.0
        self.last = time.monotonic()
        self.lock = threading.Lock()

    def advance(self) -> tuple[float, float]:
        with self.lock:
            now = time.monotonic()
            n, self.last = 50 * (now - self.last), now
            if self.failing:
                self.bad += n
            else:
                self.ok += n
            return self.ok, self.bad


class _Metrics(BaseHTTPRequestHandler):
    server: _Counters

    def do_GET(self) -> None:
        ok, bad = self.server.advance()
        body = b""
        if self.path == METRICS_PATH:
            body = (
                f'haproxy_backend_http_requests_total{{proxy="auth_refresh_a"}} {ok + bad}\n'
                f'haproxy_backend_http_responses_total{{proxy="auth_refresh_a",code="5xx"}} {bad}\n'
            ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def target() -> Iterator[_Counters]:
    server = _Counters()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _wait(alerting: Alerting, done: object, timeout_s: float) -> list[AlertSpan]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        spans = alerting.spans()
        if callable(done) and done(spans):
            return spans
        time.sleep(0.5)
    return alerting.spans()


def test_an_outage_pages_through_alertmanager_and_resolves_after_recovery(
    target: _Counters, tmp_path: Path
) -> None:
    port = target.server_address[1]
    address = f"127.0.0.1:{port}"
    with Alerting(environment("laptop"), "laptop", [address], address, tmp_path) as alerting:
        time.sleep(8)  # healthy traffic first: nothing may fire
        assert alerting.spans() == []
        target.failing = True
        failed_at = time.time()
        spans = _wait(alerting, lambda s: any(x.name.endswith("Page1h") for x in s), 30)
        page = next(s for s in spans if s.name == "SloErrorBudgetBurnPage1h")
        assert (page.journey, page.objective, page.severity) == (
            "authentication",
            "availability",
            "page",
        )
        assert 0 < page.notified_at - failed_at < 15, "detected within a few evaluations"
        target.failing = False
        spans = _wait(
            alerting,
            lambda s: all(x.resolved_at for x in s if x.name.endswith("Page1h")),
            30,
        )
        page = next(s for s in spans if s.name == "SloErrorBudgetBurnPage1h")
        assert page.resolved_at is not None, "the 5 s short window resets the page"
        assert {s.journey for s in spans} == {"authentication"}
        assert (tmp_path / "slo.rules.yml").exists()

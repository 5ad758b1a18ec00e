"""Real alerting on the local platform: Alertmanager runs as one of its components, Prometheus
sends it alerts, loads the rule files installed while it runs, and scrapes bearer-token targets.

Every test runs against the session's real platform (tests/conftest.py) and removes what it
installed; the rule groups and alerts carry a per-test token so they never mix with others'.
"""

from __future__ import annotations

import http.server
import json
import secrets
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from localplatform import alertmanager, ports, prometheus
from localplatform.cluster import LocalPlatform
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

ALERTMANAGER_API = f"http://{ports.LOOPBACK}:{ports.ALERTMANAGER}/api/v2/alerts"
"""How Prometheus lists the platform's Alertmanager (``/api/v1/alertmanagers``)."""


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def _active_alertmanagers() -> list[str]:
    data = _get(f"{prometheus.url()}/api/v1/alertmanagers")["data"]
    return [am["url"] for am in data["activeAlertmanagers"]]


def _rule_groups() -> dict[str, dict[str, Any]]:
    groups = _get(f"{prometheus.url()}/api/v1/rules")["data"]["groups"]
    return {group["name"]: group for group in groups}


def _query(expr: str) -> list[dict[str, Any]]:
    query = urllib.parse.urlencode({"query": expr})
    result: list[dict[str, Any]] = _get(f"{prometheus.url()}/api/v1/query?{query}")["data"][
        "result"
    ]
    return result


def _rules(group: str, rules: list[dict[str, Any]]) -> str:
    return yaml.safe_dump({"groups": [{"name": group, "interval": "1s", "rules": rules}]})


def test_alertmanager_runs_as_a_component_without_gossip(local_platform: LocalPlatform) -> None:
    rows = {row.name: row for row in local_platform.status()}
    assert rows["alertmanager"].state == "running"
    assert rows["alertmanager"].ports == (ports.ALERTMANAGER,)
    status = _get(f"{alertmanager.url()}/api/v2/status")
    assert status["cluster"]["status"] == "disabled"  # --cluster.listen-address= (one instance)
    loaded = yaml.safe_load(status["config"]["original"])
    assert loaded["route"]["receiver"] == alertmanager.RECEIVER
    assert [r["name"] for r in loaded["receivers"]] == [alertmanager.RECEIVER]


@pytest.mark.slow
def test_prometheus_sends_its_alerts_to_the_platforms_alertmanager(
    local_platform: LocalPlatform,
) -> None:
    wait_until(lambda: ALERTMANAGER_API in _active_alertmanagers(), 30, "active Alertmanager")


def test_an_installed_rule_file_is_listed_and_evaluated_after_the_reload(
    local_platform: LocalPlatform,
) -> None:
    token = secrets.token_hex(4)
    group = f"pytest-rules-{token}"
    rule = {"record": "pytest:up:count", "expr": "count(up)", "labels": {"pytest_run": token}}
    installed = prometheus.install_rules(local_platform.layout, group, _rules(group, [rule]))
    try:
        # install_rules returns once Prometheus has reloaded: the group is listed at once.
        listed = _rule_groups()[group]
        assert listed["file"] == str(installed)
        assert [r["name"] for r in listed["rules"]] == ["pytest:up:count"]
        samples = wait_until(
            lambda: _query(f'pytest:up:count{{pytest_run="{token}"}}'), 30, "recorded sample"
        )
        assert float(samples[0]["value"][1]) >= 1  # Prometheus scrapes itself at least
    finally:
        assert prometheus.uninstall_rules(local_platform.layout, group)
    assert group not in _rule_groups()


@pytest.mark.slow
def test_an_always_firing_rule_reaches_alertmanager_within_seconds(
    local_platform: LocalPlatform, record_property: Callable[[str, object], None]
) -> None:
    token = secrets.token_hex(4)
    group = f"pytest-alert-{token}"
    rule = {
        "alert": "PytestAlwaysFiring",
        "expr": "vector(1)",
        "labels": {"severity": "ticket", "pytest_run": token},
        "annotations": {"summary": "fires from its first evaluation on"},
    }
    started = time.monotonic()
    prometheus.install_rules(local_platform.layout, group, _rules(group, [rule]))
    try:
        found = wait_until(
            lambda: alertmanager.alerts([f'pytest_run="{token}"']), 30, "alert in Alertmanager"
        )
        seconds = time.monotonic() - started
        record_property("seconds_to_alertmanager", round(seconds, 2))
        print(f"rule installed to alert in Alertmanager: {seconds:.2f} s")
        [alert] = found
        assert alert.name == "PytestAlwaysFiring"
        assert alert.state == "active"
        assert alert.receivers == (alertmanager.RECEIVER,)
        assert alert.labels["severity"] == "ticket"
        assert alert.annotations["summary"] == "fires from its first evaluation on"
        assert alert.ends_at > alert.starts_at
    finally:
        prometheus.uninstall_rules(local_platform.layout, group)


class _BearerMetrics(http.server.BaseHTTPRequestHandler):
    token = ""

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            self.send_response(401)
            self.end_headers()
            return
        body = b"# TYPE pytest_bearer_ok gauge\npytest_bearer_ok 1\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def bearer_server() -> Iterator[tuple[int, str]]:
    token = secrets.token_hex(8)
    handler = type("Handler", (_BearerMetrics,), {"token": token})
    server = http.server.ThreadingHTTPServer((ports.LOOPBACK, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1]), token
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.slow
def test_a_target_registered_with_a_bearer_token_is_scraped_with_it(
    local_platform: LocalPlatform, bearer_server: tuple[int, str]
) -> None:
    port, token = bearer_server
    job = f"pytest-bearer-{secrets.token_hex(3)}"
    prometheus.register_targets(
        local_platform.layout, job, [f"{ports.LOOPBACK}:{port}"], bearer_token=token
    )
    try:
        wait_until(lambda: _query(f'pytest_bearer_ok{{job="{job}"}} == 1'), 45, "bearer scrape")
    finally:
        assert prometheus.unregister_targets(local_platform.layout, job)
    assert (
        f"local-services-bearer-{job}"
        not in (local_platform.layout.prometheus_dir / "prometheus.yml").read_text()
    )


def test_up_gives_a_reused_prometheus_the_current_configuration(
    local_platform: LocalPlatform,
) -> None:
    config_file = local_platform.layout.prometheus_dir / "prometheus.yml"
    old = {k: v for k, v in prometheus.config(local_platform.layout).items() if k != "alerting"}
    config_file.write_text(yaml.safe_dump(old))  # as an earlier toolkit, without Alertmanager
    assert prometheus.reload()
    assert ALERTMANAGER_API not in _active_alertmanagers()
    result = local_platform.up(3)
    assert "prometheus" in result.reused
    wait_until(lambda: ALERTMANAGER_API in _active_alertmanagers(), 30, "active Alertmanager")

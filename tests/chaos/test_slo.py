"""The SLO probes read the right error ratios, burn rates and latencies from the real Prometheus.

A real simulator (two replicas, free ports) is registered as a scrape job with
``localplatform.prometheus.register_targets``; the test drives a known mix of 200, 401 and 404
responses at a steady pace and checks the probes against it.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chaos.errors import ChaosError, UnreachableError
from chaos.slo import probes
from chaos.slo.prometheus import NoDataError
from librechat_sim.cluster import Cluster
from librechat_sim.processes import free_port
from localplatform.cluster import LocalPlatform
from localplatform.prometheus import register_targets, unregister_targets
from localplatform.prometheus import url as prometheus_url
from tests.simclient import Client, sim_config
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CYCLE = (200,) * 6 + (401, 404)
"""One cycle of the steady mix: 4xx are 2/8 of the requests, 401 alone 1/8."""


def _query(promql: str) -> list[dict[str, Any]]:
    url = f"{prometheus_url()}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=10) as response:
        result: list[dict[str, Any]] = json.load(response)["data"]["result"]
    return result


@dataclass
class Scraped:
    """The simulator as Prometheus sees it, after the steady mix was driven."""

    job: str
    counts: dict[int, int]
    config: dict[str, Any]

    def selector(self, metric: str = "librechat_sim_http_requests_total") -> str:
        return f'{metric}{{job="{self.job}",route!~"/health|/metrics"}}'


def _drive(client: Client, status: int) -> None:
    if status == 200:
        response = client.request("GET", "/api/convos")
    elif status == 401:
        response = Client(client.base_url).request("GET", "/api/convos")
    else:
        response = client.request("GET", f"/api/no-such-route-{secrets.token_hex(2)}")
    assert response.status == status


@pytest.fixture(scope="module")
def scraped(platform_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scraped]:
    platform: LocalPlatform = platform_session.platform
    platform.up(3)
    job = f"pytest-chaos-slo-{secrets.token_hex(3)}"
    with Cluster(sim_config(Path(tmp_path_factory.mktemp("sim")))) as info:
        register_targets(platform.layout, job, [f"127.0.0.1:{p}" for p in info.replica_ports])
        try:
            wait_until(
                lambda: (
                    len([r for r in _query(f'up{{job="{job}"}}') if r["value"][1] == "1"])
                    == len(info.replica_ports)
                ),
                45,
                "Prometheus to scrape the simulator's replicas",
            )
            client = Client(info.url)
            assert client.login().status == 200
            counts = {200: 0, 401: 0, 404: 0}
            for status in (200, 401, 404):  # prime: every series exists before the mix
                _drive(client, status)
                counts[status] += 1
            # every series (login, 200, 401, 404) scraped twice, so the mix only adds to them
            series = f'librechat_sim_http_requests_total{{job="{job}",route!~"/health|/metrics"}}'
            primed = f"count(count_over_time({series}[1m]) >= 2)"
            wait_until(
                lambda: _query(primed) and int(_query(primed)[0]["value"][1]) >= 4,
                30,
                "the primed series to be scraped twice",
            )
            deadline = time.monotonic() + 25
            while time.monotonic() < deadline:
                for status in CYCLE:
                    _drive(client, status)
                    counts[status] += 1
                time.sleep(0.05)
            total = (
                f'sum(librechat_sim_http_requests_total{{job="{job}",route!~"/health|/metrics"}})'
            )
            # + the login, + each replica's warm-up login as the simulator started
            expected = sum(counts.values()) + 1 + len(info.replica_ports)
            wait_until(
                lambda: int(float(_query(total)[0]["value"][1])) == expected,
                30,
                "Prometheus to scrape the last requests",
            )
            yield Scraped(job, counts, {"prometheus_url": prometheus_url()})
        finally:
            unregister_targets(platform.layout, job)


def test_error_ratio_matches_the_mix(scraped: Scraped) -> None:
    sel, cfg = scraped.selector(), scraped.config
    four_xx = probes.error_ratio("30s", sel, "4..", configuration=cfg)
    only_401 = probes.error_ratio("30s", sel, "401", configuration=cfg)
    server = probes.error_ratio("30s", sel, configuration=cfg)  # default: 5xx only
    assert four_xx == pytest.approx(2 / 8, abs=0.03)
    assert only_401 == pytest.approx(1 / 8, abs=0.02)
    assert server == 0.0


def test_burn_rate_is_the_error_ratio_over_the_budget(scraped: Scraped) -> None:
    sel, cfg = scraped.selector(), scraped.config
    ratio = probes.error_ratio("30s", sel, "401", configuration=cfg)
    burn = probes.burn_rate(0.99, "30s", sel, "401", configuration=cfg)
    assert burn == pytest.approx(ratio / 0.01, rel=0.02)
    assert burn == pytest.approx(12.5, abs=2.0)
    consumed = probes.error_budget_consumed(0.99, "30s", "1h", sel, "401", configuration=cfg)
    assert consumed == pytest.approx(burn * 30 / 3600, rel=0.05)


def test_multi_window_alerts_fire_on_a_fast_burn_and_slo_does_not_hold(scraped: Scraped) -> None:
    sel, cfg = scraped.selector(), scraped.config
    alerts = probes.burn_rate_alerts(0.99, 0.1, sel, "4..", configuration=cfg)
    assert [(a["severity"], a["long_window"], a["short_window"]) for a in alerts] == [
        ("page", "360s", "30s"),
        ("page", "2160s", "180s"),
        ("ticket", "25920s", "2160s"),
    ]
    assert all(a["firing"] for a in alerts)  # burning ~25x the budget of a 99 % objective
    status = probes.slo_status(0.99, 0.1, selector=sel, error_status="4..", configuration=cfg)
    assert not status["holds"]
    assert len(status["reasons"]) == 2  # the two page alerts
    assert not probes.slo_holds(0.99, 0.1, selector=sel, error_status="4..", configuration=cfg)


def test_slo_holds_without_server_errors_and_checks_latency(scraped: Scraped) -> None:
    sel, cfg = scraped.selector(), scraped.config
    assert probes.slo_holds(0.999, 0.1, selector=sel, configuration=cfg)
    buckets = scraped.selector("librechat_sim_http_request_duration_seconds_bucket")
    p99 = probes.latency_quantile(0.99, "1m", buckets, configuration=cfg)
    assert 0 < p99 <= 0.25  # the simulator answers these in milliseconds
    kwargs: dict[str, Any] = {"selector": sel, "buckets_selector": buckets, "configuration": cfg}
    slow = probes.slo_status(0.999, 0.1, latency_threshold_s=p99 / 100, **kwargs)
    assert not slow["holds"]
    assert "latency" in slow["reasons"][0]
    assert probes.slo_holds(0.999, 0.1, latency_threshold_s=5.0, **kwargs)


def test_no_traffic_is_no_data_not_a_healthy_zero(scraped: Scraped) -> None:
    cfg = scraped.config
    nothing = 'librechat_sim_http_requests_total{job="no-such-job"}'
    with pytest.raises(NoDataError, match="no requests over the last 1m"):
        probes.error_ratio("1m", nothing, configuration=cfg)
    assert not probes.slo_holds(0.999, 0.1, selector=nothing, configuration=cfg)
    assert probes.slo_holds(0.999, 0.1, no_data_holds=True, selector=nothing, configuration=cfg)


def test_user_mistakes_are_clear_errors(scraped: Scraped) -> None:
    cfg = scraped.config
    with pytest.raises(ChaosError, match="not a Prometheus duration"):
        probes.error_ratio("5 minutes", configuration=cfg)
    with pytest.raises(ChaosError, match="objective must be between 0 and 1"):
        probes.burn_rate(99.9, configuration=cfg)
    with pytest.raises(ChaosError, match="rejected the query"):
        probes.error_ratio("1m", "sum(rate(", configuration=cfg)
    with pytest.raises(ChaosError, match="go together"):
        probes.error_ratio("1m", errors_query="vector(1)", configuration=cfg)
    with pytest.raises(ChaosError, match="severities 'pages' must name"):
        probes.burn_rate_alerts(0.999, severities="pages", configuration=cfg)
    with pytest.raises(ChaosError, match="under 15 s"):
        probes.burn_rate_alerts(0.999, 0.01, configuration=cfg)
    ratio = probes.error_ratio(errors_query="vector(1)", total_query="vector(4)", configuration=cfg)
    assert ratio == 0.25


def test_unreachable_prometheus_raises_with_a_hint() -> None:
    cfg = {"prometheus_url": f"http://127.0.0.1:{free_port()}"}
    with pytest.raises(UnreachableError, match="does not answer") as caught:
        probes.error_ratio(configuration=cfg)
    assert "librechat-ops cluster up" in caught.value.hint
    with pytest.raises(ChaosError, match="not an http"):
        probes.error_ratio(configuration={"prometheus_url": "127.0.0.1:9090"})


def _experiment(selector: str, marker: Path, client_errors_tolerated: float) -> dict[str, Any]:
    def ratio_probe(name: str, status: str, upper: float) -> dict[str, Any]:
        arguments = {"window": "5m", "selector": selector, "error_status": status}
        return {
            "type": "probe",
            "name": name,
            "tolerance": {"type": "range", "range": [0.0, upper]},
            "provider": {
                "type": "python",
                "module": "chaos.slo.probes",
                "func": "error_ratio",
                "arguments": arguments,
            },
        }

    burn = {"objective": 0.99, "window": "5m", "selector": selector, "error_status": "4.."}
    mark = ["-c", f"open({str(marker)!r}, 'w').close()"]
    return {
        "version": "1.0.0",
        "title": "SLO probes in a real chaos run",
        "description": "Steady state from Prometheus; a rollback that leaves a marker file.",
        "runtime": {"rollbacks": {"strategy": "always"}},
        "configuration": {
            "prometheus_url": {"type": "env", "key": "LIBRECHAT_PROMETHEUS_URL"},
        },
        "steady-state-hypothesis": {
            "title": "few errors",
            "probes": [
                ratio_probe("server-errors", "5..", 0.01),
                ratio_probe("client-errors", "4..", client_errors_tolerated),
            ],
        },
        "method": [
            {
                "type": "probe",
                "name": "client-error-burn",
                "provider": {
                    "type": "python",
                    "module": "chaos.slo.probes",
                    "func": "burn_rate",
                    "arguments": burn,
                },
            }
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "mark",
                "provider": {"type": "process", "path": sys.executable, "arguments": mark},
            }
        ],
    }


@pytest.mark.parametrize(
    ("case", "tolerated", "cli", "status", "rolled_back"),
    [
        ("holds", 0.5, [], "completed", True),
        ("out-of-tolerance", 0.01, [], "completed", True),
        ("no-data", 0.5, [], "failed", True),
        ("no-data", 0.5, ["--rollback-strategy=default"], "failed", False),
    ],
)
def test_chaos_run_reads_the_slo_and_always_plays_rollbacks(
    scraped: Scraped,
    tmp_path: Path,
    case: str,
    tolerated: float,
    cli: list[str],
    status: str,
    rolled_back: bool,
) -> None:
    """A probe that raises (no data) fails the run: only strategy ``always`` still rolls back."""
    marker = tmp_path / "rolled-back"
    selector = scraped.selector()
    if case == "no-data":
        selector = selector.replace(scraped.job, "no-such-job")
    experiment = tmp_path / "experiment.json"
    experiment.write_text(json.dumps(_experiment(selector, marker, tolerated)))
    journal = tmp_path / "journal.json"
    env = os.environ | {"LIBRECHAT_PROMETHEUS_URL": prometheus_url(), "HOME": str(tmp_path)}
    chaos = Path(sys.executable).with_name("chaos")
    argv = [str(chaos), "--no-version-check", "run", "--journal-path", str(journal), *cli]
    subprocess.run([*argv, str(experiment)], cwd=tmp_path, env=env, timeout=120, check=False)
    result = json.loads(journal.read_text())
    assert result["status"] == status
    assert marker.exists() == rolled_back
    before = result["steady_states"]["before"]
    assert before["steady_state_met"] == (case == "holds")
    if case == "no-data":
        assert "no requests over the last 5m" in before["probes"][0]["exception"][-1]
        return
    assert before["probes"][0]["output"] == 0.0
    assert before["probes"][1]["output"] == pytest.approx(0.25, abs=0.1)
    if case == "holds":
        assert result["run"][0]["output"] == pytest.approx(25, abs=10)
    else:
        assert result["run"] == []  # the method never ran

"""The SLO probes read the generated rules from a real Prometheus and fail closed.

Each Prometheus evaluates the rules ``slos.rules.generate`` writes for ``laptop`` (the shipped
definition) at 1/60 scale (an hour's window is a minute's), every second, on a target serving the
simulator's indicator series (``slos.sli``) at rates the test sets:

- ``healthy``: 20 requests/s on every journey but ``login`` (idle: its counters stopped, so its
  ratios are 0/0), ``file_operations`` failing 1 in 10,000 (burn rate 0.1), every request within
  every latency threshold;
- ``burning``: the same, until the test starts a burst of 5xx on ``search`` (half its requests,
  burn rate 500): both page alerts fire;
- ``idle``: the rules and no target (nothing scraped), its TSDB backfilled with ``stale-test``'s
  burn rate from 290 s to 150 s ago: a rule no longer evaluated, which Prometheus keeps answering
  with for 5 minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chaos.errors import ChaosError, NoDataError, UnreachableError
from chaos.slo import probes
from slos import definition, rules
from tests.prometheus_server import (
    MetricsTarget,
    PrometheusServer,
    free_port,
    needs_prometheus,
    openmetrics,
    running_prometheus,
    simulator_exposition,
)
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow, needs_prometheus]

SCALE = 1 / 60
"""The rules' window scale (as ``verify`` runs them)."""
SHORTEST = rules.shortest_window(SCALE)
"""``5s``: the fastest page's short window at that scale."""
PER_S = 20.0
"""Requests per second of every journey with traffic."""
FILE_ERRORS_PER_S = 0.002
"""``file_operations``' failures per second: 1 in 10,000, a burn rate of 0.1."""
IDLE_REQUESTS = 42.0
"""``login``'s requests, no longer growing."""


@dataclass
class Traffic:
    """The simulator's traffic a target serves, and a burst of 5xx on ``search`` on demand."""

    started: float = field(default_factory=time.monotonic)
    burst_from: float | None = None
    """Seconds after ``started`` the burst began; None: no burst."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start_burst(self) -> None:
        with self.lock:
            if self.burst_from is None:
                self.burst_from = time.monotonic() - self.started

    def exposition(self, _: float) -> str:
        t = time.monotonic() - self.started
        with self.lock:
            burst = 0.0 if self.burst_from is None else max(t - self.burst_from, 0.0)
        counts = {j: (PER_S * t, 0.0) for j in definition.JOURNEYS if j != "login"}
        counts["login"] = (IDLE_REQUESTS, 0.0)
        counts["file_operations"] = (PER_S * t, FILE_ERRORS_PER_S * t)
        counts["search"] = (PER_S * t, PER_S / 2 * burst)
        return simulator_exposition(counts)


@dataclass
class Served:
    """A Prometheus on the generated rules, and the traffic its target serves."""

    prometheus: PrometheusServer
    traffic: Traffic

    @property
    def config(self) -> dict[str, Any]:
        return {"prometheus_url": self.prometheus.url}


def _rules() -> dict[str, Any]:
    return rules.generate("laptop", definition.environment("laptop"), scale=SCALE, interval="1s")


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _served(tmp_path_factory.mktemp("healthy"))


@pytest.fixture(scope="module")
def burning(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _served(tmp_path_factory.mktemp("burning"))


def _served(root: Path) -> Iterator[Served]:
    traffic = Traffic()
    with (
        MetricsTarget(traffic.exposition) as target,
        running_prometheus(root, rules=_rules(), targets=[target.address]) as prometheus,
    ):
        served = Served(prometheus, traffic)
        measured = rules.objectives(definition.environment("laptop"))
        wanted = len([o for o in measured if o.journey != "login"])  # login's are 0/0
        wait_until(
            lambda: (
                len(prometheus.query(f'{rules.BURN}{SHORTEST}{{slo_env="laptop"}} >= 0')) == wanted
            ),
            60,
            "the rules to record a burn rate for every journey with traffic",
        )
        yield served


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    labels = {"slo_env": "stale-test", "slo_journey": "search", "slo_objective": "availability"}
    now = time.time()
    backfill = openmetrics(
        [(f"{rules.BURN}{SHORTEST}", labels, 0.1, now - ago) for ago in range(290, 149, -10)]
    )
    root = tmp_path_factory.mktemp("idle")
    with running_prometheus(root, rules=_rules(), backfill=backfill) as prometheus:
        yield Served(prometheus, Traffic())


def _burst(served: Served) -> None:
    """Start the burst of 5xx on ``search`` and wait for a page alert to fire."""
    served.traffic.start_burst()
    firing = rules.alerts_selector("laptop", ("page",), "search")
    wait_until(lambda: served.prometheus.query(firing), 60, "a page alert to fire on search")


def test_the_slo_holds_on_fresh_rules_without_a_firing_alert(healthy: Served) -> None:
    status = probes.slo_status("laptop", scale=SCALE, configuration=healthy.config)
    assert status["reasons"] == []
    assert status["holds"] is True
    assert status["alerts"] == []
    page_windows = ["5s", "1m", "6m", "30s"]  # Page1h's (1h, 5m) and Page6h's (6h, 30m) at 1/60
    assert list(status["burn_rates"]) == page_windows
    assert status["burn_rates"]["5s"] == pytest.approx(0.1, rel=0.01)  # file_operations
    assert probes.slo_holds("laptop", "page,ticket", "search", 30, SCALE, healthy.config)
    rate = probes.burn_rate("laptop", SHORTEST, "file_operations", configuration=healthy.config)
    assert rate == pytest.approx(0.1, rel=0.01)
    assert probes.burn_rate("laptop", "1m", "search", configuration=healthy.config) == 0.0


def test_a_burst_of_5xx_fires_a_page_alert_and_the_slo_does_not_hold(burning: Served) -> None:
    config = burning.config
    wait_until(
        lambda: probes.slo_holds("laptop", scale=SCALE, configuration=config),
        30,
        "the SLO to hold before the burst",
    )
    burning.traffic.start_burst()
    wait_until(
        lambda: not probes.slo_holds("laptop", scale=SCALE, configuration=config),
        60,
        "the burst to break the SLO",
    )
    _burst(burning)  # and both page alerts
    wait_until(
        lambda: len(probes.slo_status("laptop", scale=SCALE, configuration=config)["alerts"]) == 2,
        60,
        "both page alerts to fire",
    )
    wait_until(  # the shortest window all in the burst
        lambda: probes.burn_rate("laptop", SHORTEST, "search", configuration=config) > 400,
        30,
        f"search's burn rate over {SHORTEST} to reach the burst's",
    )
    status = probes.slo_status("laptop", scale=SCALE, configuration=config)
    assert status["holds"] is False
    assert status["alerts"] == [
        {
            "name": f"{rules.ALERT_PREFIX}{name}",
            "journey": "search",
            "objective": "availability",
            "severity": "page",
        }
        for name in ("Page1h", "Page6h")
    ]
    assert len(status["reasons"]) == 2
    assert "SloErrorBudgetBurnPage1h (page) firing: search availability" in status["reasons"][0]
    assert status["burn_rates"]["5s"] == pytest.approx(500, rel=0.05)  # half of the requests
    assert status["burn_rates"]["1m"] > 14.4  # Page1h's windows
    assert status["burn_rates"]["6m"] > 6  # Page6h's
    assert status["burn_rates"]["30s"] > 6
    # another journey's SLO still holds; only the burst's journey is judged
    assert probes.slo_holds("laptop", journey="file_operations", scale=SCALE, configuration=config)
    assert not probes.slo_holds("laptop", journey="search", scale=SCALE, configuration=config)


def test_rules_that_record_nothing_are_not_a_healthy_slo(healthy: Served, idle: Served) -> None:
    # loaded, but nothing they read is scraped
    status = probes.slo_status("laptop", scale=SCALE, configuration=idle.config)
    assert not status["holds"]
    assert status["reasons"][0].startswith(f'no series {rules.BURN}5s{{slo_env="laptop"}}')
    assert "librechat-ops slo rules --env laptop" in status["reasons"][0]
    assert status["burn_rates"] == dict.fromkeys(["5s", "1m", "6m", "30s"])
    with pytest.raises(NoDataError, match="no series"):
        probes.burn_rate("laptop", "1m", configuration=idle.config)
    # not generated for that environment: no series, and no alert rule
    staging = probes.slo_status("staging", scale=SCALE, configuration=healthy.config)
    assert not staging["holds"]
    assert staging["reasons"][0].startswith("no series")
    assert (
        "no SloErrorBudgetBurn* alert of severity page for staging is loaded"
        in (staging["reasons"][1])
    )
    # generated at another scale than the one asked: the windows named are not recorded
    assert not probes.slo_holds("laptop", configuration=healthy.config)
    # a journey without requests in the window: 0/0 is no judgement
    login = probes.slo_status("laptop", journey="login", scale=SCALE, configuration=healthy.config)
    assert login["reasons"] == [
        f"no requests over the last {SHORTEST}: every objective's burn rate is not a number"
    ]
    with pytest.raises(NoDataError, match="no requests over the last 1m"):
        probes.burn_rate("laptop", "1m", "login", configuration=healthy.config)


def test_a_rule_no_longer_evaluated_is_stale(idle: Served) -> None:
    status = probes.slo_status("stale-test", scale=SCALE, configuration=idle.config)
    assert not status["holds"]
    assert "was last evaluated" in status["reasons"][0]
    assert "(limit 120 s): the rules are no longer evaluated" in status["reasons"][0]
    assert status["burn_rates"][SHORTEST] == pytest.approx(0.1)  # the value alone looks fine
    with pytest.raises(NoDataError, match="was last evaluated"):
        probes.burn_rate("stale-test", SHORTEST, configuration=idle.config)
    assert probes.burn_rate("stale-test", SHORTEST, "", 600, idle.config) == pytest.approx(0.1)


def test_user_mistakes_are_clear_errors(healthy: Served) -> None:
    config = healthy.config
    with pytest.raises(ChaosError, match="severities 'pages' must name"):
        probes.slo_status("laptop", "pages", configuration=config)
    with pytest.raises(ChaosError, match="journey 'chat' is not a journey"):
        probes.slo_holds("laptop", journey="chat", configuration=config)
    with pytest.raises(ChaosError, match="not an SLO environment name"):
        probes.slo_holds('laptop"}', configuration=config)
    with pytest.raises(ChaosError, match="scale must be a positive number"):
        probes.slo_holds("laptop", scale=0, configuration=config)
    with pytest.raises(ChaosError, match="max_age_s must be a positive number"):
        probes.burn_rate("laptop", max_age_s=0, configuration=config)
    with pytest.raises(ChaosError, match="not a Prometheus duration"):
        probes.burn_rate("laptop", "5 minutes", configuration=config)


def test_an_unreachable_prometheus_raises_with_a_hint() -> None:
    config = {"prometheus_url": f"http://127.0.0.1:{free_port()}"}
    with pytest.raises(UnreachableError, match="does not answer") as caught:
        probes.slo_status("laptop", configuration=config)
    assert "librechat-ops cluster up" in caught.value.hint
    with pytest.raises(UnreachableError, match="does not answer"):
        probes.burn_rate("laptop", configuration=config)
    with pytest.raises(ChaosError, match="not an http"):
        probes.slo_holds(configuration={"prometheus_url": "127.0.0.1:9090"})


def _experiment(marker: Path) -> dict[str, Any]:
    def slo(name: str, func: str, arguments: dict[str, Any]) -> dict[str, Any]:
        provider = {"type": "python", "module": "chaos.slo.probes", "func": func}
        return {"type": "probe", "name": name, "provider": provider | {"arguments": arguments}}

    mark = ["-c", f"open({str(marker)!r}, 'w').close()"]
    return {
        "version": "1.0.0",
        "title": "SLO probes in a real chaos run",
        "description": "Steady state from the generated rules; a rollback that leaves a marker.",
        "runtime": {"rollbacks": {"strategy": "always"}},
        "configuration": {
            "prometheus_url": {"type": "env", "key": "LIBRECHAT_PROMETHEUS_URL"},
            "slo_env": {"type": "env", "key": "LIBRECHAT_SLO_ENV", "default": "production"},
        },
        "steady-state-hypothesis": {
            "title": "the SLO holds",
            "probes": [
                slo("slo-holds", "slo_holds", {"env": "${slo_env}", "scale": SCALE})
                | {"tolerance": True}
            ],
        },
        "method": [slo("burn", "burn_rate", {"env": "${slo_env}", "window": SHORTEST})],
        "rollbacks": [
            {
                "type": "action",
                "name": "mark",
                "provider": {"type": "process", "path": sys.executable, "arguments": mark},
            }
        ],
    }


@pytest.mark.parametrize(
    ("case", "cli", "status", "rolled_back"),
    [
        ("healthy", [], "completed", True),
        ("burning", [], "completed", True),
        ("idle", [], "completed", True),
        ("unreachable", [], "failed", True),
        ("unreachable", ["--rollback-strategy=default"], "failed", False),
    ],
)
def test_chaos_run_reads_the_slo_and_always_plays_rollbacks(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    case: str,
    cli: list[str],
    status: str,
    rolled_back: bool,
) -> None:
    """The SLO not holding stops the run before its method; a probe that raises (Prometheus
    unreachable) fails it, and only strategy ``always`` still rolls back."""
    url = f"http://127.0.0.1:{free_port()}"
    if case != "unreachable":
        served: Served = request.getfixturevalue(case)
        url = served.prometheus.url
        if case == "burning":
            _burst(served)
    marker = tmp_path / "rolled-back"
    experiment = tmp_path / "experiment.json"
    experiment.write_text(json.dumps(_experiment(marker)))
    journal = tmp_path / "journal.json"
    env = os.environ | {
        "LIBRECHAT_PROMETHEUS_URL": url,
        "LIBRECHAT_SLO_ENV": "laptop",
        "HOME": str(tmp_path),
    }
    chaos = Path(sys.executable).with_name("chaos")
    argv = [str(chaos), "--no-version-check", "run", "--journal-path", str(journal), *cli]
    subprocess.run([*argv, str(experiment)], cwd=tmp_path, env=env, timeout=120, check=False)
    result = json.loads(journal.read_text())
    assert result["status"] == status
    assert marker.exists() == rolled_back
    before = result["steady_states"]["before"]
    assert before["steady_state_met"] == (case == "healthy")
    probe = before["probes"][0]
    if case == "unreachable":
        assert "does not answer" in probe["exception"][-1]
        return
    assert probe["output"] is (case == "healthy")
    if case == "healthy":
        assert result["run"][0]["output"] == pytest.approx(0.1, rel=0.05)
    else:
        assert result["run"] == []  # the method never ran

"""What ``up`` registers with the local Prometheus: the simulator's replicas and AI gateway as
scrape targets, and the laptop SLO rules (checked by the real promtool).

These write into a temporary state directory whose Prometheus is not running (nothing is
reloaded); the running platform scraping a registered target is shown by
``tests/localplatform/test_alerting.py``.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import yaml

from librechat_ops import up_monitoring
from librechat_sim import description
from librechat_sim.config import GatewayConfig, SimConfig
from librechat_sim.description import ClusterInfo
from librechat_sim.paths import cluster_file, sim_dir
from librechat_sim.processes import alive, spawn, stop
from localplatform.layout import Layout
from slos.definition import environment
from slos.rules import generate


def _info(tmp_path: Path, *, gateway: bool) -> ClusterInfo:
    config = SimConfig(state_dir=tmp_path, replicas=2)
    if gateway:
        ai = GatewayConfig(program="/opt/litellm/bin/litellm", port=40123, master_key="sk-test")
        config = replace(config, gateway=ai)
    return ClusterInfo("http://127.0.0.1:40100", config, (40101, 40102), ())


def test_the_replicas_are_one_job_and_the_gateway_another_with_its_master_key(
    tmp_path: Path,
) -> None:
    jobs = up_monitoring.scrape_jobs(_info(tmp_path, gateway=True))
    assert jobs == [
        up_monitoring.ScrapeJob("librechat-sim", ("127.0.0.1:40101", "127.0.0.1:40102")),
        up_monitoring.ScrapeJob(
            "librechat-sim-front", ("127.0.0.1:40100",), metrics_path="/haproxy/metrics"
        ),
        up_monitoring.ScrapeJob("librechat-gateway", ("127.0.0.1:40123",), "sk-test"),
    ]
    assert [j.job for j in up_monitoring.scrape_jobs(_info(tmp_path, gateway=False))] == [
        "librechat-sim",
        "librechat-sim-front",
    ]


def test_register_writes_the_target_lists_and_unregister_removes_them(tmp_path: Path) -> None:
    state = tmp_path / "state"
    targets = Layout(state / "cluster").prometheus_targets
    up_monitoring.register_simulator(state, _info(tmp_path, gateway=True))
    sim = json.loads((targets / "librechat-sim.json").read_text())
    assert sim == [
        {"targets": ["127.0.0.1:40101", "127.0.0.1:40102"], "labels": {"job": "librechat-sim"}}
    ]
    front = json.loads((targets / "librechat-sim-front.json").read_text())
    assert front == [
        {
            "targets": ["127.0.0.1:40100"],
            "labels": {"__metrics_path__": "/haproxy/metrics", "job": "librechat-sim-front"},
        }
    ]
    assert (targets / "bearer" / "librechat-gateway.token").read_text() == "sk-test"
    # A simulator without a gateway (one `sim up --no-gateway` started) drops the gateway's job.
    up_monitoring.register_simulator(state, _info(tmp_path, gateway=False))
    assert not (targets / "bearer" / "librechat-gateway.json").exists()
    assert up_monitoring.unregister_simulator(state) == ["librechat-sim", "librechat-sim-front"]
    assert list(targets.glob("*.json")) == []


def test_the_laptop_rules_pass_promtool_and_are_installed_under_their_name(
    tmp_path: Path,
) -> None:
    installed = up_monitoring.install_slo_rules(tmp_path)
    assert installed == Layout(tmp_path / "cluster").prometheus_rules / "librechat-slo-laptop.yml"
    assert yaml.safe_load(installed.read_text()) == generate("laptop", environment("laptop"))


def test_up_runs_the_simulator_on_free_ports_with_the_given_gateway(tmp_path: Path) -> None:
    ai = GatewayConfig(program="/opt/litellm/bin/litellm", port=0, fallback_llm_port=0)
    config = up_monitoring.simulator_config(tmp_path, ai)
    ports = (config.front_port, config.replica_base_port, config.redis_port, config.llm_port)
    assert ports == (0, 0, 0, 0)
    assert config.replicas == up_monitoring.SIM_REPLICAS
    assert config.gateway == ai
    assert up_monitoring.simulator_config(tmp_path, None).gateway.program == ""


def test_no_simulator_is_running_in_a_fresh_state_dir(tmp_path: Path) -> None:
    assert up_monitoring.running_simulator(tmp_path) is None


def test_a_simulator_running_in_part_is_stopped_so_up_starts_a_whole_one(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    live = spawn("r1", ["sleep", "60"], logs / "r1.log")
    gone = spawn("r2", ["true"], logs / "r2.log")
    deadline = time.monotonic() + 10
    while alive(gone) and time.monotonic() < deadline:
        time.sleep(0.05)
    info = replace(_info(tmp_path, gateway=False), children=(live, gone))
    sim_dir(tmp_path).mkdir(parents=True)
    description.save(tmp_path, info)
    try:
        assert up_monitoring.running_simulator(tmp_path) is None
        assert not alive(live)
        assert not cluster_file(tmp_path).exists()
    finally:
        stop(live)


def test_a_whole_simulator_is_reused(tmp_path: Path) -> None:
    live = spawn("r1", ["sleep", "60"], tmp_path / "logs" / "r1.log")
    info = replace(_info(tmp_path, gateway=False), children=(live,))
    sim_dir(tmp_path).mkdir(parents=True)
    description.save(tmp_path, info)
    try:
        assert up_monitoring.running_simulator(tmp_path) == info
    finally:
        stop(live)

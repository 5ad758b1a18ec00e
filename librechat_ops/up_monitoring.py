"""What ``up`` makes the local platform watch: the laptop SLO rules, evaluated by its Prometheus
(their alerts go to its Alertmanager), and the simulator ``up`` runs, scraped.

The simulator is the one ``sim up`` would run, recorded under the state directory, so ``sim
status`` and ``sim down`` see it; ``up`` reuses one that runs whole and keeps it running after it
returns, so the PredictiveAutoscaler's query and the ChaosSchedule guard read series that exist.
Its replicas' ``/metrics`` are the job :data:`SIM_JOB`; the AI gateway's (LiteLLM's proxy, whose
``/metrics`` wants its master key as a bearer token: ``require_auth_for_metrics_endpoint``
defaults to true in LiteLLM 1.108) the job :data:`GATEWAY_JOB`. The operator registers its own
metrics port when it starts (:func:`librechat_ops.operator_cli.start_operator`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from librechat_sim.cluster import Cluster
from librechat_sim.cluster import down as stop_sim
from librechat_sim.config import GatewayConfig, SimConfig
from librechat_sim.description import ClusterInfo, load
from librechat_sim.errors import NotRunningError as SimNotRunning
from librechat_sim.haproxy import METRICS_PATH
from librechat_sim.processes import LOOPBACK, alive
from localplatform import prometheus
from slos import definition, rules

SLO_ENV = "laptop"
"""The SLO environment ``up``'s rules and verification judge."""

SIM_JOB = "librechat-sim"
"""The ``job`` label of the simulator's replicas."""

FRONT_JOB = "librechat-sim-front"
"""The ``job`` of the simulator's front door (haproxy's own metrics, per route class)."""

GATEWAY_JOB = "librechat-gateway"
"""The ``job`` label of the simulator's AI gateway (LiteLLM)."""

SIM_REPLICAS = 2
"""The simulator's API replicas (as ``loadtest`` runs it)."""


def rules_name(env: str = SLO_ENV) -> str:
    """The name the rule file of ``env`` is installed under (``librechat-slo-laptop``)."""
    return f"librechat-slo-{env}"


def slo_rules(env: str = SLO_ENV, slo_file: Path = definition.DEFAULT_FILE) -> str:
    """The rule file generated for ``env`` from the SLO definition, as YAML."""
    return rules.dump(rules.generate(env, definition.environment(env, slo_file)))


def install_slo_rules(state_dir: Path, env: str = SLO_ENV) -> Path:
    """Load ``env``'s generated rules into the local Prometheus; returns the file installed.

    Raises ``slos.errors.SloError`` (the definition) or ``localplatform.errors.RulesError``.
    """
    return prometheus.install_rules(state_dir, rules_name(env), slo_rules(env))


@dataclass(frozen=True)
class ScrapeJob:
    """Targets registered with the local Prometheus under one ``job`` label."""

    job: str
    """The ``job`` label."""
    targets: tuple[str, ...]
    """``host:port`` of each ``/metrics``."""
    bearer_token: str | None = None
    """Sent as ``Authorization: Bearer`` when the targets want it."""
    metrics_path: str = "/metrics"
    """The path the metrics are served at."""


def scrape_jobs(info: ClusterInfo) -> list[ScrapeJob]:
    """What to scrape of a running simulator: its replicas, its front door (haproxy) and its AI
    gateway when it has one."""
    jobs = [
        ScrapeJob(SIM_JOB, tuple(f"{LOOPBACK}:{port}" for port in info.replica_ports)),
        ScrapeJob(FRONT_JOB, (urlsplit(info.url).netloc,), metrics_path=METRICS_PATH),
    ]
    gateway = info.config.gateway
    if gateway.program:
        jobs.append(
            ScrapeJob(GATEWAY_JOB, (f"{LOOPBACK}:{gateway.port}",), bearer_token=gateway.master_key)
        )
    return jobs


def register_simulator(state_dir: Path, info: ClusterInfo) -> list[ScrapeJob]:
    """Register the simulator's targets with the local Prometheus (replacing earlier ones);
    returns what was registered."""
    jobs = scrape_jobs(info)
    for job in jobs:
        labels = {} if job.metrics_path == "/metrics" else {"__metrics_path__": job.metrics_path}
        prometheus.register_targets(
            state_dir, job.job, job.targets, labels, bearer_token=job.bearer_token
        )
    if not any(job.job == GATEWAY_JOB for job in jobs):
        prometheus.unregister_targets(state_dir, GATEWAY_JOB)
    return jobs


def unregister_simulator(state_dir: Path) -> list[str]:
    """Stop scraping the simulator; returns the jobs that were registered."""
    jobs = (SIM_JOB, FRONT_JOB, GATEWAY_JOB)
    return [job for job in jobs if prometheus.unregister_targets(state_dir, job)]


def simulator_config(state_dir: Path, gateway: GatewayConfig | None) -> SimConfig:
    """The simulator ``up`` runs: free ports, :data:`SIM_REPLICAS` replicas, the AI gateway when
    given (the production gateway's configuration)."""
    config = SimConfig(
        state_dir=state_dir,
        front_port=0,
        replica_base_port=0,
        redis_port=0,
        llm_port=0,
        replicas=SIM_REPLICAS,
    )
    return config if gateway is None else config.with_overrides(gateway=gateway)


def running_simulator(state_dir: Path) -> ClusterInfo | None:
    """The simulator recorded under ``state_dir`` when every one of its processes runs; one that
    runs in part is stopped (``up`` starts a whole one again)."""
    try:
        info = load(state_dir)
    except SimNotRunning:
        return None
    if all(alive(child) for child in info.children):
        return info
    stop_sim(state_dir)
    return None


def start_simulator(config: SimConfig) -> ClusterInfo:
    """Start the simulator and leave it running (``sim down`` or ``down`` stops it).

    Raises ``librechat_sim.errors.SimError`` with the fix.
    """
    return Cluster(config).up()


def stop_simulator(state_dir: Path) -> list[str]:
    """Stop the simulator recorded under ``state_dir`` and stop scraping it; returns the names of
    the processes that were running."""
    unregister_simulator(state_dir)
    try:
        return stop_sim(state_dir)
    except SimNotRunning:
        return []


def wait_until_scraped(jobs: list[str], timeout: float = 30.0) -> dict[str, tuple[int, int]]:
    """Wait until Prometheus scrapes every target of ``jobs`` successfully, or ``timeout``
    seconds; returns, per job, how many of its targets are up and how many it has."""
    deadline = time.monotonic() + timeout
    while True:
        health = prometheus.target_health()
        counts = {
            job: (sum(h == "up" for h in health.get(job, [])), len(health.get(job, [])))
            for job in jobs
        }
        if all(total and up == total for up, total in counts.values()):
            return counts
        if time.monotonic() > deadline:
            return counts
        time.sleep(1.0)

"""One verification: the run's own simulator, Locust in the background, the faults at their
times, the messages audited at the end, then the scorecard."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from librechat_sim import ledger
from librechat_sim.cluster import Cluster
from librechat_sim.config import SimConfig
from librechat_sim.description import ClusterInfo
from librechat_sim.errors import SimError
from librechat_sim.haproxy import METRICS_PATH
from loadtests.audit import Audit, audit
from loadtests.errors import LoadtestError
from loadtests.preflight import check_login, check_target
from loadtests.results import RunResults
from loadtests.runner import LoadtestSpec, run_locust
from slos.definition import DEFAULT_FILE, environment

from . import report
from .alerting import GROUP_INTERVAL, SCALE, SCRAPE_INTERVAL, Alerting, AlertSpan
from .errors import VerifyError
from .faults import FaultRun, run_fault
from .scorecard import Scorecard, score
from .spec import SHORTENED, VerifySpec

Step = Callable[[str], None]
"""Progress callback: one line per step."""

RESOLVE_WAIT_S = 12.0
"""After the load, how long to wait for the page alerts to resolve (their short windows are 5 s
and 30 s at the run's scale; tickets, 6 min, stay firing and are reported unresolved)."""

NETWORK_FAULTS = {"llm-latency": "llm", "redis-network-degraded": "redis"}
"""Experiments that need the simulator's fault proxy -> the upstream they break."""


@dataclass(frozen=True)
class Outcome:
    """What a verification produced."""

    scorecard: Scorecard
    """The verdict and its numbers."""
    page: Path
    """``scorecard.html``."""


class _Load(threading.Thread):
    """Locust in its own processes, waited for on a thread so the faults can run meanwhile."""

    def __init__(self, spec: LoadtestSpec, host: str, password: str) -> None:
        super().__init__(name="locust", daemon=True)
        self.spec, self.host, self.password = spec, host, password
        self.results: RunResults | None = None
        self.error: LoadtestError | SimError | None = None

    def run(self) -> None:
        try:
            self.results, _code = run_locust(self.spec, self.host, self.password)
        except (LoadtestError, SimError) as exc:  # handed to the caller, which reports it
            self.error = exc


def _sim_config(spec: VerifySpec) -> SimConfig:
    # Toxiproxy only on the paths the chosen faults break: each proxy adds a hop to every request.
    upstreams = tuple(
        sorted(
            {NETWORK_FAULTS[p.experiment] for p in spec.faults if p.experiment in NETWORK_FAULTS}
        )
    )
    return SimConfig(
        state_dir=spec.state_dir,
        front_port=0,
        replica_base_port=0,
        redis_port=0,
        llm_port=0,
        toxiproxy_port=0,
        replicas=spec.replicas,
        regions=spec.regions,
        redis_persistence=spec.redis_persistence,
        toxiproxy=spec.toxiproxy if upstreams else "",
        toxiproxy_upstreams=upstreams,
        gateway=spec.gateway,
    )


def _check(spec: VerifySpec) -> None:
    names = [p.experiment for p in spec.faults]
    if spec.env != "laptop":
        raise VerifyError(
            f"--env {spec.env}: only the laptop is verified end to end here",
            hint="against a cluster, schedule the experiments with a ChaosSchedule and run "
            "`librechat-ops loadtest --target URL` for the load",
        )
    if any(n in NETWORK_FAULTS for n in names) and not spec.toxiproxy:
        raise VerifyError(
            "the network faults need Toxiproxy, which is not built",
            hint="run `librechat-ops cluster build` (it builds Toxiproxy too)",
        )
    if spec.duration_s <= spec.warmup_s:
        raise VerifyError(
            f"a {spec.duration_s:g}s run is all warm-up (the first {spec.warmup_s:g}s are not "
            "judged)",
            hint="run longer (--duration)",
        )
    if "region-failover-local" in names and spec.regions < 2:
        raise VerifyError(
            "region-failover-local needs two simulated regions", hint="use --regions 2"
        )


def _faults(
    spec: VerifySpec, info: ClusterInfo, load: _Load, started: float, step: Step
) -> tuple[list[FaultRun], list[str]]:
    """Run each planned fault at its time, one after the other; returns the runs and the faults
    that could not start before the load ended (the verdict fails on them)."""
    shortened = {key: value for key, value in SHORTENED.items() if key not in os.environ}
    env = (
        shortened
        | spec.experiment_env
        | {
            "LIBRECHAT_OPS_STATE": str(spec.state_dir),
            "TOXIPROXY_HOST": "127.0.0.1",
            "TOXIPROXY_PORT": str(info.config.toxiproxy_port),
        }
    )
    runs: list[FaultRun] = []
    for index, plan in enumerate(spec.faults):
        while load.is_alive() and time.time() < started + plan.at_s:
            time.sleep(0.2)
        if not load.is_alive():
            missed = [p.experiment for p in spec.faults[index:]]
            step(f"the load ended before {', '.join(missed)} could start: not run")
            return runs, missed
        step(f"{time.time() - started:5.1f}s  fault: {plan.experiment}")
        stem = f"{index + 1:02d}-{plan.experiment}"
        run = run_fault(plan.experiment, env, spec.report_dir / "faults", stem)
        step(
            f"{time.time() - started:5.1f}s  {plan.experiment}: {run.status}, "
            f"hypothesis {run.hypothesis}, rollbacks {'done' if run.rollbacks_ok else 'FAILED'}"
        )
        runs.append(run)
    return runs, []


def _writable(directory: Path) -> None:
    """Create ``directory`` and check a file can be written there, before any load runs."""
    if directory.exists() and not directory.is_dir():
        raise VerifyError(f"--report {directory} is a file", hint="name a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".writable"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise VerifyError(
            f"cannot write to {directory}: {exc.strerror or exc}",
            hint="choose a --report directory you can write to",
        ) from None


def _load_and_faults(
    spec: VerifySpec, info: ClusterInfo, password: str, ledger_file: Path, step: Step
) -> tuple[RunResults, list[FaultRun], list[str]]:
    """The load on its thread and the faults at their times; returns when the load ended."""
    load_spec = LoadtestSpec(
        profile=spec.profile,
        report_dir=spec.report_dir,
        profiles_file=spec.profiles_file,
        target=info.url,
        users=spec.users,
        duration_s=spec.duration_s,
        shape="smoke",
        ledger=ledger_file,
        warmup_s=spec.warmup_s,
    )
    step(f"load: {spec.users} users for {spec.duration_s:g}s against {info.url}")
    load = _Load(load_spec, info.url, password)
    started = time.time()
    load.start()
    runs, missed = _faults(spec, info, load, started, step)
    load.join()
    if load.error is not None:
        raise VerifyError(f"the load run failed: {load.error.message}", load.error.hint or "")
    if load.results is None:
        raise VerifyError("the load run stopped without results", "read locust.log")
    return load.results, runs, missed


def _alerting_note(spans: list[AlertSpan], targets: list[str]) -> dict[str, object]:
    """How the run's alerts were watched, and every alert notified, for the scorecard."""
    return {
        "scale": SCALE,
        "note": f"rule windows at 1/{round(1 / SCALE)}: page over {round(3600 * SCALE)} s and "
        f"{round(300 * SCALE)} s (1 h and 5 min), {round(6 * 3600 * SCALE)} s and "
        f"{round(1800 * SCALE)} s (6 h and 30 min); ticket over {round(3 * 86400 * SCALE / 60)} "
        f"min and {round(6 * 3600 * SCALE / 60)} min (3 d and 6 h)",
        "scrape_interval": SCRAPE_INTERVAL,
        "evaluation_interval": SCRAPE_INTERVAL,
        "alertmanager_group_interval": GROUP_INTERVAL,
        "targets": targets,
        "notified": [asdict(s) for s in spans],
    }


def verify(spec: VerifySpec, step: Step) -> Outcome:
    """Run the whole verification and write its scorecard."""
    _check(spec)
    profile = environment(spec.profile, spec.profiles_file or DEFAULT_FILE)
    _writable(spec.report_dir)
    ledger_file = spec.report_dir / "ledger.jsonl"
    ledger_file.unlink(missing_ok=True)
    config = _sim_config(spec)
    step(
        f"simulator: {spec.replicas} replicas in {spec.regions} region(s), Redis "
        f"{'with' if spec.redis_persistence else 'WITHOUT'} persistence, "
        f"{'the AI gateway (LiteLLM)' if spec.gateway.program else 'no AI gateway'}"
    )
    targets: list[str] = []
    front = ""
    with Cluster(config) as info:
        check_target(info.url)
        email, password = "loadtest-0@example.com", config.seed_password
        check_login(info.url, email, password)
        targets = [f"127.0.0.1:{port}" for port in info.replica_ports]
        step(
            f"alerting: Prometheus and Alertmanager with the {spec.profile} SLO rules at 1/"
            f"{round(1 / SCALE)} of their windows (1 h watched as {round(3600 * SCALE)} s)"
        )
        front = info.url.removeprefix("http://").rstrip("/")
        workdir = spec.report_dir / "alerting"
        with Alerting(profile, spec.profile, targets, front, workdir) as alerting:
            results, runs, missed = _load_and_faults(spec, info, password, ledger_file, step)
            step("waiting for the page alerts to resolve (no traffic: no burn)")
            alerting.wait_resolved(RESOLVE_WAIT_S)
            spans = alerting.spans()
        step("auditing every chat against what the server stored")
        passwords = {f"loadtest-{i}@example.com": password for i in range(config.seed_users)}
        checked: Audit = audit(info.url, ledger.read(ledger_file), passwords)
    card = score(
        results,
        runs,
        checked,
        profile_name=spec.profile,
        profile=profile,
        spec=spec,
        not_run=missed,
        alerts=spans,
        alerting=_alerting_note(spans, [*targets, f"{front}{METRICS_PATH}"]),
    )
    page = report.write(card, results, spec.max_budget_pct, spec.report_dir)
    return Outcome(card, page)

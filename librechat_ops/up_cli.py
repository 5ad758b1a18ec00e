"""``librechat-ops up`` / ``down``: the main job on the embedded local platform, in one command.

Bring up the local platform, load the laptop SLO rules into its Prometheus (their alerts go to its
Alertmanager), install and start the operator, start the LibreChat API simulator and have
Prometheus scrape it (:mod:`librechat_ops.up_monitoring`), apply the laptop platform
(``k8s_operator/examples/laptop.yaml``) and wait until it is Ready, then run the SLO verification
(the laptop load profile against that simulator) and say where the report is. The simulator keeps
running afterwards, so the PredictiveAutoscaler and the chaos guard read real series; ``down``
stops it with the rest.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

import k8s_operator
from k8s_operator.kube import Kube, KubeError, KubeUnavailable
from librechat_sim.description import ClusterInfo
from librechat_sim.errors import SimError
from localplatform.errors import PlatformError
from slos.errors import SloError

from . import loadtest_cli, up_monitoring
from .cluster_cli import local_platform, start_platform
from .console import console, err_console, fail
from .operator_cli import (
    OPERATOR_JOB,
    install_operator,
    operator_log,
    start_operator,
    stop_operator,
)
from .settings import Settings

LAPTOP_EXAMPLE = Path(k8s_operator.__file__).parent / "examples" / "laptop.yaml"
SHARED_SECRETS = ("CREDS_KEY", "CREDS_IV", "JWT_SECRET", "JWT_REFRESH_SECRET", "MEILI_MASTER_KEY")


def _step(message: str) -> None:
    err_console.print(f"[bold]==>[/] {message}")


def _secret(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "stringData": data,
    }


def apply_laptop_platform(kube: Kube, timeout: float = 180.0) -> tuple[str, str]:
    """Apply the laptop example (creating its Secrets once, with random values) and wait until the
    LibreChat resource is Ready; returns its (namespace, name)."""
    docs = [d for d in yaml.safe_load_all(LAPTOP_EXAMPLE.read_text()) if d]
    platform = next(d for d in docs if d["kind"] == "LibreChat")
    ns, name = platform["metadata"]["namespace"], platform["metadata"]["name"]
    kube.apply(next(d for d in docs if d["kind"] == "Namespace"))
    secrets_name = platform["spec"]["secretsRef"]["name"]
    if kube.get("Secret", ns, secrets_name) is None:
        # CREDS_KEY is 32 bytes and CREDS_IV 16 bytes, hex-encoded, as LibreChat expects.
        sizes = {"CREDS_KEY": 32, "CREDS_IV": 16}
        values = {key: secrets.token_hex(sizes.get(key, 32)) for key in SHARED_SECRETS}
        kube.apply(_secret(secrets_name, ns, values))
    stores_name = platform["spec"]["redis"]["urlSecretRef"]["name"]
    if kube.get("Secret", ns, stores_name) is None:
        stores = {
            "REDIS_URI": "redis://redis.librechat-data.svc:6379",
            "MONGO_URI": "mongodb://mongodb.librechat-data.svc:27017/LibreChat",
        }
        kube.apply(_secret(stores_name, ns, stores))
    for doc in docs:
        if doc["kind"] != "Namespace":
            kube.apply(doc)
    deadline = time.monotonic() + timeout
    shown = None
    while True:
        status = (kube.get("LibreChat", ns, name) or {}).get("status") or {}
        ready, total = status.get("readyServices", 0), status.get("services", 0)
        if (ready, total) != shown:
            err_console.print(f"  {ready}/{total or '?'} services ready")
            shown = (ready, total)
        conditions = status.get("conditions") or []
        if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
            return ns, name
        if time.monotonic() > deadline:
            fail(
                f"LibreChat {ns}/{name} not Ready after {timeout:.0f} s ({ready}/{total})",
                f"read the operator's log: {operator_log()}",
            )
        time.sleep(1)


def _load_slo_rules(settings: Settings) -> None:
    """Install the laptop SLO rules into the platform's Prometheus; exits on errors."""
    try:
        path = up_monitoring.install_slo_rules(settings.state_dir)
    except SloError as exc:
        fail(exc.message, exc.hint)
    except PlatformError as exc:
        fail(exc.message, exc.hint, details=exc.log_tail and f"last lines:\n{exc.log_tail}")
    err_console.print(f"  {path}", highlight=False)


def _simulator(settings: Settings) -> ClusterInfo:
    """The running simulator (started when none runs whole), registered with Prometheus."""
    info = up_monitoring.running_simulator(settings.state_dir)
    if info is not None:
        err_console.print(f"  simulator running at {info.url}", highlight=False)
    else:
        from .gateway import for_command  # noqa: PLC0415 (pulumi, via components)

        config = up_monitoring.simulator_config(
            settings.state_dir, for_command(port=0, fallback_llm_port=0)
        )
        try:
            info = up_monitoring.start_simulator(config)
        except SimError as exc:
            fail(exc.message, exc.hint)
        err_console.print(f"  simulator started at {info.url}", highlight=False)
    try:
        jobs = up_monitoring.register_simulator(settings.state_dir, info)
    except PlatformError as exc:
        fail(exc.message, exc.hint)
    for job in jobs:
        err_console.print(f"  scraping {job.job}: {', '.join(job.targets)}", highlight=False)
    return info


def _report_scraping(jobs: list[str], prometheus_url: str) -> None:
    """Say which registered targets Prometheus scrapes (a warning for those it cannot)."""
    try:
        counts = up_monitoring.wait_until_scraped(jobs)
    except PlatformError as exc:
        fail(exc.message, exc.hint)
    for job, (healthy, total) in counts.items():
        if total and healthy == total:
            console.print(f"  Prometheus scrapes {job}: {healthy}/{total} up")
        else:
            err_console.print(
                f"[bold yellow]warning:[/] Prometheus scrapes {job}: {healthy}/{total} up "
                f"({prometheus_url}/targets says why)",
                highlight=False,
            )


def up(
    nodes: Annotated[int, typer.Option(min=1, max=500, help="How many kwok nodes.")] = 3,
    report: Annotated[
        Path | None, typer.Option(help="Where the SLO report goes (default: under the state dir).")
    ] = None,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Run the SLO verification at the end.")
    ] = True,
) -> None:
    """The main job: local platform with the SLO alerts, operator, simulator (scraped), laptop
    platform, SLO verification, report."""
    settings = Settings.from_env()
    _step("local platform (Kubernetes control plane, kwok nodes, Prometheus, Alertmanager)")
    result = start_platform(nodes)
    _step(f"SLO rules of the {up_monitoring.SLO_ENV} environment into Prometheus")
    _load_slo_rules(settings)
    _step("operator: CRDs and RBAC")
    install_operator(kubeconfig=result.kubeconfig)
    pid = start_operator(kubeconfig=result.kubeconfig)
    err_console.print(f"  operator running (pid {pid})")
    _step("LibreChat API simulator, scraped by the platform's Prometheus")
    sim = _simulator(settings)
    _step(f"laptop platform from {LAPTOP_EXAMPLE.name}")
    try:
        kube = Kube.connect(field_manager="librechat-ops-up", kubeconfig=str(result.kubeconfig))
        ns, name = apply_laptop_platform(kube)
    except KubeError as exc:
        fail(f"the API server refused the laptop platform: {exc}")
    except KubeUnavailable as exc:
        fail(f"the local platform stopped answering: {exc}", "`librechat-ops cluster status`")
    console.print(f"[green]LibreChat {ns}/{name} is Ready[/]")
    console.print(f"  export KUBECONFIG={result.kubeconfig}", highlight=False)
    console.print(f"  Prometheus: {result.prometheus_url}")
    console.print(f"  Alertmanager: {result.alertmanager_url} (alerts: /api/v2/alerts)")
    console.print(f"  LibreChat API simulator: {sim.url}", highlight=False)
    jobs = [job.job for job in up_monitoring.scrape_jobs(sim)]
    _report_scraping([*jobs, OPERATOR_JOB], result.prometheus_url)
    if not verify:
        return
    _step("SLO verification: laptop profile against the LibreChat API simulator")
    out = report or settings.state_dir / "reports" / time.strftime("%Y%m%dT%H%M%S")
    loadtest_cli.loadtest(
        profile=up_monitoring.SLO_ENV, report=out, users=10, duration="60s", target=sim.url
    )


def down() -> None:
    """Stop everything `up` started (operator, simulator, local platform) and remove the
    platform's state."""
    stopped_operator = stop_operator()
    try:
        stopped_sim = up_monitoring.stop_simulator(Settings.from_env().state_dir)
    except (SimError, PlatformError) as exc:  # the platform goes down all the same
        err_console.print(f"[bold yellow]warning:[/] {exc.message} ({exc.hint})", highlight=False)
        stopped_sim = []
    stopped = local_platform().down()
    what = [
        *(["operator"] if stopped_operator else []),
        *(["simulator"] if stopped_sim else []),
        *stopped,
    ]
    console.print(f"Stopped: {', '.join(what) or 'nothing'}")


def register(app: typer.Typer) -> None:
    """Add ``up`` and ``down``."""
    app.command()(up)
    app.command()(down)

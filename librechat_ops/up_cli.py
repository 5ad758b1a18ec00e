"""``librechat-ops up`` / ``down``: the main job on the embedded local platform, in one command.

Bring up the local platform, install and start the operator, apply the laptop platform
(``k8s_operator/examples/laptop.yaml``) and wait until it is Ready, then run the SLO verification
(the laptop load profile against the LibreChat API simulator) and say where the report is.
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

from . import loadtest_cli
from .cluster_cli import local_platform, start_platform
from .console import console, err_console, fail
from .operator_cli import install_operator, operator_log, start_operator, stop_operator
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


def up(
    nodes: Annotated[int, typer.Option(min=1, max=500, help="How many kwok nodes.")] = 3,
    report: Annotated[
        Path | None, typer.Option(help="Where the SLO report goes (default: under the state dir).")
    ] = None,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Run the SLO verification at the end.")
    ] = True,
) -> None:
    """The main job: local platform, operator, laptop platform, SLO verification, report."""
    settings = Settings.from_env()
    _step("local platform (Kubernetes control plane, kwok nodes, Prometheus)")
    result = start_platform(nodes)
    _step("operator: CRDs and RBAC")
    install_operator(kubeconfig=result.kubeconfig)
    pid = start_operator(kubeconfig=result.kubeconfig)
    err_console.print(f"  operator running (pid {pid})")
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
    if not verify:
        return
    _step("SLO verification: laptop profile against the LibreChat API simulator")
    out = report or settings.state_dir / "reports" / time.strftime("%Y%m%dT%H%M%S")
    loadtest_cli.loadtest(profile="laptop", report=out, users=10, duration="60s")


def down() -> None:
    """Stop everything `up` started (operator, local platform) and remove the platform's state."""
    stopped_operator = stop_operator()
    stopped = local_platform().down()
    console.print(
        f"Stopped: {'operator, ' if stopped_operator else ''}{', '.join(stopped) or 'nothing'}"
    )


def register(app: typer.Typer) -> None:
    """Add ``up`` and ``down``."""
    app.command()(up)
    app.command()(down)

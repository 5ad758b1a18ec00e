"""``librechat-ops operator install|run|manifests``: the kopf operator for LibreChat resources."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from k8s_operator import crds, deploy
from k8s_operator.kube import Kube, KubeError, KubeUnavailable
from k8s_operator.settings import LIVENESS_PORT, METRICS_PORT
from localplatform import process
from localplatform.cluster import LocalPlatform
from localplatform.health import Probe
from localplatform.ports import is_free, owner_of
from localplatform.prometheus import register_targets

from .console import console, err_console, fail
from .settings import Settings

CRDS_FILE = "k8s_operator/deploy/crds.yaml"
OPERATOR_JOB = "librechat-operator"
"""The ``job`` label of the operator's metrics in the local platform's Prometheus."""

operator_app = typer.Typer(
    help=(
        "The kopf operator: LibreChat, LibreChatService, PredictiveAutoscaler and ChaosSchedule "
        "custom resources turned into running, converged, secure workloads."
    ),
    no_args_is_help=True,
)


def manifests(*, with_deployment: bool, image: str) -> list[dict[str, Any]]:
    """Everything ``install`` applies, in order."""
    objs = [*crds.definitions(), *deploy.rbac()]
    if with_deployment:
        objs.append(deploy.deployment(image))
    return objs


def _local_kubeconfig() -> Path | None:
    """The local platform's kubeconfig when the toolkit should use it: KUBECONFIG unset (or set
    to that very file) and the platform's kubeconfig present."""
    settings = Settings.from_env()
    path = LocalPlatform(settings.state_dir, settings.cache_dir).layout.kubeconfig
    chosen = os.environ.get("KUBECONFIG")
    if chosen and Path(chosen).expanduser().resolve() != path.resolve():
        return None
    return path if path.exists() else None


def install_operator(
    *,
    with_deployment: bool = False,
    image: str = deploy.DEFAULT_IMAGE,
    kubeconfig: Path | None = None,
) -> None:
    """Apply the CRDs and RBAC (and the Deployment) and wait for the CRDs; exits on errors.
    ``kubeconfig`` wins over the environment (the main job passes the local platform's)."""
    chosen = kubeconfig or _local_kubeconfig()
    try:
        kube = Kube.connect(
            field_manager="librechat-ops-install", kubeconfig=str(chosen) if chosen else None
        )
        for obj in manifests(with_deployment=with_deployment, image=image):
            kube.apply(obj)
            err_console.print(f"  applied {obj['kind']} {obj['metadata']['name']}")
        _wait_established(kube)
    except KubeError as exc:
        fail(f"the API server refused: {exc}", "check the kubeconfig's user has cluster-admin")
    except KubeUnavailable as exc:
        fail(
            f"cannot reach the cluster: {exc}",
            "start the local platform (`librechat-ops cluster up`) or set KUBECONFIG",
        )


@operator_app.command()
def install(
    with_deployment: Annotated[
        bool, typer.Option("--with-deployment", help="Also deploy the operator in the cluster.")
    ] = False,
    image: Annotated[str, typer.Option(help="Operator image (with --with-deployment).")] = (
        deploy.DEFAULT_IMAGE
    ),
) -> None:
    """Apply the CRDs and the operator's RBAC to the current kubeconfig (the local platform's
    when KUBECONFIG is unset), and wait until the CRDs are established."""
    install_operator(with_deployment=with_deployment, image=image)
    console.print("[green]Operator CRDs and RBAC installed.[/]")


def _wait_established(kube: Kube, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    names = [c["metadata"]["name"] for c in crds.definitions()]
    for name in names:
        while True:
            crd = kube.get("CustomResourceDefinition", None, name) or {}
            conditions = (crd.get("status") or {}).get("conditions") or []
            if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                break
            if time.monotonic() > deadline:
                fail(f"CRD {name} not established after {timeout:.0f} s")
            time.sleep(0.2)


@operator_app.command("manifests")
def show_manifests(
    with_deployment: Annotated[bool, typer.Option("--with-deployment")] = False,
    image: Annotated[str, typer.Option()] = deploy.DEFAULT_IMAGE,
    crds_only: Annotated[bool, typer.Option("--crds-only", help="Only the four CRDs.")] = False,
) -> None:
    """Print what `install` applies, as YAML (for kubectl, GitOps or review)."""
    if crds_only:
        print(f"# Rendered by: librechat-ops operator manifests --crds-only > {CRDS_FILE}")
        objs = crds.definitions()
    else:
        objs = manifests(with_deployment=with_deployment, image=image)
    print(yaml.safe_dump_all(objs, sort_keys=False), end="")


def _operator_command(
    namespace: str | None, verbose: bool, kubeconfig: Path | None = None
) -> tuple[list[str], dict[str, str]]:
    """The kopf command line and environment for running the operator here."""
    local = kubeconfig or _local_kubeconfig()
    env = dict(os.environ)
    if local is not None:
        env["KUBECONFIG"] = str(local)
        settings = Settings.from_env()
        layout = LocalPlatform(settings.state_dir, settings.cache_dir).layout
        if layout.prometheus_targets.is_dir():
            port = env.get("LIBRECHAT_OPERATOR_METRICS_PORT", str(METRICS_PORT))
            try:
                register_targets(layout, OPERATOR_JOB, [f"127.0.0.1:{port}"])
            except ValueError:
                fail(
                    f"LIBRECHAT_OPERATOR_METRICS_PORT={port!r} is not a port",
                    "set it to a port number, or unset it for the default",
                )
    elif not env.get("KUBECONFIG") and not Path("~/.kube/config").expanduser().exists():
        fail(
            "no cluster to run against: KUBECONFIG is unset and the local platform is not up",
            "start it with `librechat-ops cluster up`, or set KUBECONFIG",
        )
    scope = ["--namespace", namespace] if namespace else ["--all-namespaces"]
    argv = [
        sys.executable,
        "-m",
        "kopf",
        "run",
        "-m",
        "k8s_operator.handlers",
        "--standalone",
        *scope,
        f"--liveness=http://127.0.0.1:{LIVENESS_PORT}/healthz",
        *(["--verbose"] if verbose else []),
    ]
    return argv, env


@operator_app.command()
def run(
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Watch one namespace (default: all).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="kopf's debug logging.")] = False,
) -> None:
    """Run the operator here in the foreground, against the current kubeconfig (the local
    platform's when KUBECONFIG is unset). Its metrics (port 8082) are registered with the
    platform's Prometheus. Same as `kopf run -m k8s_operator.handlers --standalone
    --all-namespaces`."""
    argv, env = _operator_command(namespace, verbose)
    err_console.print(f"running: {' '.join(argv[1:])}", highlight=False)
    os.execvpe(argv[0], argv, env)


def _daemon_paths() -> tuple[Path, Path]:
    root = Settings.from_env().state_dir / "operator"
    return root / "operator.pid", root / "operator.log"


def operator_running() -> bool:
    """True while the background operator runs."""
    return process.find(_daemon_paths()[0]) is not None


def operator_log() -> Path:
    """Where the background operator writes its log."""
    return _daemon_paths()[1]


def start_operator(kubeconfig: Path | None = None) -> int:
    """Start the operator in the background (or keep the running one); returns its pid."""
    pid_file, log = _daemon_paths()
    running = process.find(pid_file)
    if running is not None:
        return running.pid
    for port, what in ((LIVENESS_PORT, "liveness"), (METRICS_PORT, "metrics")):
        if not is_free(port):
            holder = owner_of(port) or "another process"
            fail(
                f"127.0.0.1:{port}, the operator's {what} port, is taken by {holder}",
                "stop that process (an operator started by `operator run`?) and retry",
            )
    argv, env = _operator_command(None, verbose=False, kubeconfig=kubeconfig)
    handle = process.start(argv, log=log, pid_file=pid_file, env=env)
    deadline = time.monotonic() + 60
    probe = Probe(f"http://127.0.0.1:{LIVENESS_PORT}/healthz")
    while not probe.check():
        if not handle.alive() or time.monotonic() > deadline:
            process.stop(handle, pid_file=pid_file)
            fail(
                "the operator did not start",
                f"read its log {log}",
                details=f"last lines:\n{process.tail(log)}",
            )
        time.sleep(0.2)
    return handle.pid


def stop_operator() -> bool:
    """Stop the background operator; False when none ran."""
    pid_file, _ = _daemon_paths()
    handle = process.find(pid_file)
    if handle is None:
        return False
    process.stop(handle, pid_file=pid_file)
    return True


@operator_app.command()
def start() -> None:
    """Run the operator in the background (log and pid under the state directory)."""
    pid = start_operator()
    console.print(f"operator running (pid {pid}); log {_daemon_paths()[1]}")


@operator_app.command()
def stop() -> None:
    """Stop the background operator."""
    console.print("operator stopped" if stop_operator() else "no operator was running")


def register(app: typer.Typer) -> None:
    """Add the ``operator`` group."""
    app.add_typer(operator_app, name="operator")

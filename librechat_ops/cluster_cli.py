"""``librechat-ops cluster build|up|status|down|kubeconfig``: the embedded local platform."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from localplatform import litellm, toxiproxy
from localplatform.build import Progress as ProgressFn
from localplatform.cluster import LocalPlatform, UpResult
from localplatform.errors import PlatformError

from .console import console, err_console, fail
from .settings import Settings

cluster_app = typer.Typer(
    help=(
        "The embedded local platform: a real Kubernetes control plane (etcd, kube-apiserver, "
        "kube-controller-manager, kube-scheduler) built from source, kwok nodes that run "
        "thousands of simulated pods, Prometheus and Alertmanager, all on 127.0.0.1."
    ),
    no_args_is_help=True,
)


@contextmanager
def _build_progress() -> Iterator[ProgressFn]:
    """A progress callback for Go builds: a live bar on a terminal, a line per 10 % elsewhere."""
    if err_console.is_terminal:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=False,
        ) as bar:
            tasks: dict[str, TaskID] = {}

            def update(message: str, done: int, total: int) -> None:
                label = message.split(":", maxsplit=1)[0]
                if label not in tasks:
                    tasks[label] = bar.add_task(message, total=total or None)
                bar.update(tasks[label], description=message, completed=done, total=total or None)

            yield update
        return
    last: dict[str, int] = {}

    def plain(message: str, done: int, total: int) -> None:
        tenth = done * 10 // total if total else -1
        if last.get(message) != tenth:
            last[message] = tenth
            shown = f" {done}/{total} packages" if total and done < total else ""
            err_console.print(f"  {message}{shown}", highlight=False)

    yield plain


def local_platform(progress: ProgressFn | None = None) -> LocalPlatform:
    """The local platform of the current settings."""
    settings = Settings.from_env()
    return LocalPlatform(settings.state_dir, settings.cache_dir, build_progress=progress)


def _fail_platform(exc: PlatformError) -> NoReturn:
    fail(exc.message, exc.hint, details=exc.log_tail and f"last lines:\n{exc.log_tail}")


def start_platform(nodes: int) -> UpResult:
    """Build if needed, then bring the platform up with live progress (shared with ``up``)."""
    with _build_progress() as progress:
        platform = local_platform(progress)
        missing = platform.builder.missing()
        if missing:
            err_console.print(
                f"[bold]Building {', '.join(missing)} from the Go module proxy[/] (cold: about "
                "7 minutes on 2 cores; cached afterwards)"
            )
        try:
            return platform.up(nodes, on_step=lambda msg: err_console.print(f"  {msg}"))
        except PlatformError as exc:
            _fail_platform(exc)


@cluster_app.command()
def build() -> None:
    """Build etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok and Toxiproxy
    (the chaos experiments' fault proxy) into the cache, and install LiteLLM's proxy (the
    simulator's AI gateway) into its own virtual environment there.

    Uses the Go module proxy and PyPI only; everything is cached under the cache directory keyed
    by version, so this is instant once done. `cluster up` builds first when needed.
    """
    with _build_progress() as progress:
        platform = local_platform(progress)
        try:
            binaries = platform.builder.ensure()
            if toxiproxy.server_path(Settings.from_env().cache_dir) is None:
                err_console.print(f"building toxiproxy {toxiproxy.VERSION} (about 20 s)")
            fault_proxy = toxiproxy.ensure(Settings.from_env().cache_dir)
            if litellm.executable(Settings.from_env().cache_dir) is None:
                err_console.print(
                    f"installing LiteLLM {litellm.VERSION} (the AI gateway) into its own virtual "
                    "environment from PyPI (about a minute)"
                )
            gateway = litellm.ensure(Settings.from_env().cache_dir)
        except PlatformError as exc:
            _fail_platform(exc)
    console.print(f"binaries ready in {binaries.kube_apiserver.parent.parent}")
    console.print(f"fault proxy ready: {fault_proxy}", highlight=False)
    console.print(f"AI gateway ready: {gateway}", highlight=False)


@cluster_app.command()
def up(
    nodes: Annotated[int, typer.Option(min=1, max=500, help="How many kwok nodes.")] = 3,
) -> None:
    """Start the local platform (or recover a partly running one) and wait until it is ready."""
    result = start_platform(nodes)
    console.print(
        f"[green]Local platform ready[/] in {result.seconds:.1f} s: {len(result.nodes)} "
        f"node(s), Prometheus at {result.prometheus_url}, Alertmanager at "
        f"{result.alertmanager_url}"
    )
    console.print(f"  export KUBECONFIG={result.kubeconfig}", highlight=False)


@cluster_app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Show each component with its state, pid, ports and log. Exits 1 unless all are running."""
    rows = local_platform().status()
    if as_json:
        data = [
            {
                "name": r.name,
                "state": r.state,
                "pid": r.pid,
                "ports": list(r.ports),
                "log": str(r.log),
            }
            for r in rows
        ]
        console.print_json(json.dumps(data))
    else:
        table = Table(title="local platform")
        for column in ("component", "state", "pid", "ports", "log"):
            table.add_column(column, overflow="fold")
        colour = {"running": "green", "unhealthy": "yellow", "stopped": "red"}
        for r in rows:
            table.add_row(
                r.name,
                f"[{colour[r.state]}]{r.state}[/]",
                str(r.pid or "-"),
                ",".join(map(str, r.ports)),
                str(r.log),
            )
        console.print(table)
    if any(r.state != "running" for r in rows):
        raise typer.Exit(1)


@cluster_app.command()
def down(
    keep_data: Annotated[
        bool, typer.Option("--keep-data", help="Keep etcd's data (and certificates) for next up.")
    ] = False,
) -> None:
    """Stop every component and remove the platform's state (builds stay cached)."""
    stopped = local_platform().down(keep_data=keep_data)
    what = ", ".join(stopped) if stopped else "nothing was running"
    kept = " (data kept)" if keep_data else ""
    console.print(f"Stopped: {what}{kept}")


@cluster_app.command("kubeconfig")
def kubeconfig_path() -> None:
    """Print the path of the admin kubeconfig (for scripts: KUBECONFIG=$(... kubeconfig))."""
    platform = local_platform()
    try:
        platform.require_running()
    except PlatformError as exc:
        _fail_platform(exc)
    print(platform.layout.kubeconfig)


def register(app: typer.Typer) -> None:
    """Add the ``cluster`` group."""
    app.add_typer(cluster_app, name="cluster")

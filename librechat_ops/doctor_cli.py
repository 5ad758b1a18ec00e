"""``librechat-ops doctor``: render the machine check."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.table import Table

from k8s_operator.settings import LIVENESS_PORT, METRICS_PORT
from localplatform.cluster import LocalPlatform

from .console import console
from .doctor import Status, failed, run_checks
from .operator_cli import operator_running
from .settings import Settings

_MARKS = {Status.OK: "[green]ok[/]", Status.WARN: "[yellow]warn[/]", Status.FAIL: "[red]FAIL[/]"}


def doctor(
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
) -> None:
    """Check this machine for what the toolkit needs and say how to fix each gap.

    Checks the Python version, the Go toolchain (the local platform is built from the Go module
    proxy), the Debian packages (Prometheus, Redis, HAProxy, wrk), that the local
    platform's loopback ports are free, and that the cache directory is writable with room for
    the builds. Exits 1 when a required check fails.
    """
    settings = Settings.from_env()
    platform = LocalPlatform(settings.state_dir, settings.cache_dir)
    ours = {port for row in platform.status() if row.pid is not None for port in row.ports}
    if operator_running():
        ours |= {LIVENESS_PORT, METRICS_PORT}
    findings = run_checks(settings, listening_ok=lambda use: use.port in ours)
    if as_json:
        rows = [asdict(f) | {"status": f.status.value} for f in findings]
        console.print_json(json.dumps(rows))
    else:
        table = Table(title="librechat-ops doctor")
        table.add_column("check")
        table.add_column("status")
        table.add_column("detail", overflow="fold")
        for f in findings:
            table.add_row(f.check, _MARKS[f.status], f.detail)
        console.print(table)
        fixes = dict.fromkeys(f.fix for f in findings if f.fix and f.status is not Status.OK)
        for fix in fixes:
            console.print(f"[bold]fix:[/] {fix}", highlight=False)
        if not fixes:
            console.print("[green]Everything the toolkit needs is here.[/]")
    if failed(findings):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``doctor`` to the application."""
    app.command()(doctor)

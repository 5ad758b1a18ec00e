"""The typer application behind ``librechat-ops``.

Each command parses its options, builds the settings, calls into a product package and renders the
result. Errors of the product packages are translated here into one red line and exit code 2; a
traceback means a bug in the toolkit, never a user mistake.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .doctor import Status, failed, run_checks
from .settings import Settings

app = typer.Typer(
    name="librechat-ops",
    help=(
        "Run LibreChat at very large scale: check the machine, bring up the embedded local "
        "platform, plan environments, autoscale, load-test and break things on purpose."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

console = Console()
err_console = Console(stderr=True)

_MARKS = {Status.OK: "[green]ok[/]", Status.WARN: "[yellow]warn[/]", Status.FAIL: "[red]FAIL[/]"}


def _version(value: bool) -> None:
    if value:
        console.print(f"librechat-ops {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Run LibreChat at very large scale."""


@app.command()
def doctor(
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
) -> None:
    """Check this machine for what the toolkit needs and say how to fix each gap.

    Checks the Python version, the Go toolchain (the local platform is built from the Go module
    proxy), the Debian packages (Prometheus, Redis, HAProxy, OpenSSL, wrk), that the local
    platform's loopback ports are free, and that the cache directory is writable with room for
    the builds. Exits 1 when a required check fails.
    """
    findings = run_checks(Settings.from_env())
    if as_json:
        rows = [asdict(f) | {"status": f.status.value} for f in findings]
        console.print_json(json.dumps(rows))
    else:
        table = Table(title="librechat-ops doctor", show_lines=False)
        table.add_column("check")
        table.add_column("status")
        table.add_column("detail", overflow="fold")
        for f in findings:
            table.add_row(f.check, _MARKS[f.status], f.detail)
        console.print(table)
        fixes = dict.fromkeys(f.fix for f in findings if f.fix and f.status is not Status.OK)
        for fix in fixes:
            console.print(f"[bold]fix:[/] {fix}")
        if not fixes:
            console.print("[green]Everything the toolkit needs is here.[/]")
    if failed(findings):
        raise typer.Exit(1)


def main() -> None:
    """Console-script entry point."""
    app()

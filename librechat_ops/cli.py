"""The typer application behind ``librechat-ops``.

Each area's commands live in their own ``*_cli.py`` module with a ``register(app)`` function; this
module only assembles them. Commands translate their package's errors into one red line and exit
code 2 (see :func:`librechat_ops.console.fail`); a traceback means a bug in the toolkit, never a
user mistake.
"""

from __future__ import annotations

from typing import Annotated

import typer

from . import (
    __version__,
    backtest_cli,
    cluster_cli,
    doctor_cli,
    loadtest_cli,
    operator_cli,
    plan_cli,
    sim_cli,
    slo_cli,
    up_cli,
    verify_cli,
)
from .console import console

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


def _version(value: bool) -> None:
    if value:
        console.print(f"librechat-ops {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Run LibreChat at very large scale."""


# One line per area: each module adds its commands or command group.
doctor_cli.register(app)
backtest_cli.register(app)
plan_cli.register(app)
loadtest_cli.register(app)
verify_cli.register(app)
sim_cli.register(app)
up_cli.register(app)
cluster_cli.register(app)
operator_cli.register(app)
slo_cli.register(app)


def main() -> None:
    """Console-script entry point."""
    app()

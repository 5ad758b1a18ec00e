"""``librechat-ops up``: the main job on the embedded local platform, in one command.

Today: bring up the local platform and say how to use it. It grows as the operator, the laptop
platform and the SLO verification land.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .cluster_cli import start_platform
from .console import console


def up(
    nodes: Annotated[int, typer.Option(min=1, max=500, help="How many kwok nodes.")] = 3,
) -> None:
    """Run the main job: bring up the local platform (Kubernetes + kwok nodes + Prometheus)."""
    result = start_platform(nodes)
    console.print(
        f"[green]Local platform ready[/] in {result.seconds:.1f} s "
        f"(started: {', '.join(result.started) or 'none'}; "
        f"already running: {', '.join(result.reused) or 'none'})"
    )
    console.print(f"  nodes: {', '.join(result.nodes)}")
    console.print(f"  Prometheus: {result.prometheus_url}")
    console.print(f"  export KUBECONFIG={result.kubeconfig}", highlight=False)
    console.print("  stop it with: librechat-ops cluster down")


def register(app: typer.Typer) -> None:
    """Add ``up``."""
    app.command()(up)

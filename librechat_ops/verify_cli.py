"""``librechat-ops verify``: a load profile with faults injected mid-run, and one scorecard.

The command checks its inputs, then hands over to :mod:`librechat_ops.verification`; it imports
the load tests and the chaos experiments only when it runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from librechat_sim.errors import SimError
from loadtests.errors import LoadtestError
from loadtests.shapes import parse_duration
from slos.errors import SloError

from .console import console, err_console, fail, stop_cleanly_on_sigterm
from .settings import Settings

if TYPE_CHECKING:
    from .verification.scorecard import Scorecard


def _seconds(value: str, option: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def verify(
    *,
    env: Annotated[str, typer.Option(help="Environment: laptop (the simulator here).")] = "laptop",
    report: Annotated[
        Path | None,
        typer.Option(help="Directory for the scorecard (default: under the state directory)."),
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="An experiment of chaos/experiments, NAME or NAME@WHEN (30s, 1m); repeat it. "
            "Default: replica-kill-mid-stream, redis-outage, llm-latency, region-failover-local, "
            "spread over the run."
        ),
    ] = None,
    users: Annotated[
        int,
        typer.Option(
            min=1, help="Simulated users (enough that 20 chats start in each fault's window)."
        ),
    ] = 30,
    duration: Annotated[str, typer.Option(help="Load duration: 90s, 3m.")] = "150s",
    profile: Annotated[
        str, typer.Option(help="The environment whose SLOs judge the run (in the SLO file).")
    ] = "laptop",
    profiles: Annotated[
        Path | None,
        typer.Option(
            "--slo-file", "--profiles", help="Your copy of slos/slos.yaml, the SLO definition."
        ),
    ] = None,
    replicas: Annotated[int, typer.Option(min=1, max=16, help="Simulator API replicas.")] = 4,
    regions: Annotated[
        int | None,
        typer.Option(min=1, max=2, help="Simulated regions (default: 2, or 1 with --replicas 1)."),
    ] = None,
    redis_persistence: Annotated[
        bool,
        typer.Option(
            "--redis-persistence/--no-redis-persistence",
            help="Redis keeps an fsynced append-only file (--no-...: a broken system).",
        ),
    ] = True,
    max_budget: Annotated[
        float,
        typer.Option(min=0, help="Most of the SLO window's error budget one fault may burn, %."),
    ] = 0.5,
    max_recovery: Annotated[
        str, typer.Option(help="Longest time from a fault to errors back within the objective.")
    ] = "30s",
) -> None:
    """Run a load profile, inject faults mid-run, and write one scorecard: SLOs, error budget,
    time to recover, lost or duplicated messages. Exit 0 only when all of them hold."""
    from localplatform import toxiproxy  # noqa: PLC0415 (heavy imports: not for --help)

    from .gateway import for_command  # noqa: PLC0415
    from .verification.errors import VerifyError  # noqa: PLC0415
    from .verification.faults import known_experiments, laptop_experiments  # noqa: PLC0415
    from .verification.run import verify as run_verification  # noqa: PLC0415
    from .verification.spec import LAPTOP_FAULTS, VerifySpec, parse_faults  # noqa: PLC0415

    settings = Settings.from_env()
    length = _seconds(duration, "--duration")
    recovery = _seconds(max_recovery, "--max-recovery")
    out = report or settings.state_dir / "reports" / ("verify-" + time.strftime("%Y%m%dT%H%M%S"))
    server = toxiproxy.server_path(settings.cache_dir)
    try:
        plans = parse_faults(
            list(fault or LAPTOP_FAULTS), length, known_experiments(), laptop_experiments()
        )
        spec = VerifySpec(
            report_dir=out,
            state_dir=settings.state_dir / "verify",
            faults=plans,
            env=env,
            profile=profile,
            profiles_file=profiles,
            users=users,
            duration_s=length,
            replicas=replicas,
            regions=regions if regions is not None else min(2, replicas),
            redis_persistence=redis_persistence,
            toxiproxy=str(server) if server else "",
            gateway=for_command(port=0, fallback_llm_port=0),
            max_budget_pct=max_budget,
            max_recovery_s=recovery,
        )
        stop_cleanly_on_sigterm()
        outcome = run_verification(spec, lambda line: err_console.print(f"  {line}"))
    except VerifyError as exc:
        fail(exc.message, exc.hint)
    except (LoadtestError, SimError, SloError) as exc:
        fail(exc.message, exc.hint)
    _show(outcome.scorecard)
    console.print(f"scorecard: {outcome.page}", highlight=False)
    if not outcome.scorecard.passed:
        console.print("[bold red]verification: FAIL[/]")
        raise typer.Exit(1)
    console.print("[bold green]verification: PASS[/]")


def _show(card: Scorecard) -> None:
    from .verification.report import alert_text  # noqa: PLC0415 (matplotlib: not for --help)

    slos = Table(title=f"SLOs in steady state ({card.profile})")
    for column in ("journey", "requests", "failed", "p99 ms", "target", "verdict"):
        slos.add_column(column, justify="left" if column == "journey" else "right")
    for s in card.slos:
        p99 = "-" if s.p99_ms is None else f"{s.p99_ms:g}"
        target = "-" if s.target_p99_ms is None else f"{s.target_p99_ms:g}"
        mark = "[green]pass[/]" if s.passed else "[red]FAIL[/]"
        slos.add_row(s.journey, str(s.requests), str(s.failures), p99, target, mark)
    console.print(slos)
    # One line per fault, not a table: seven columns do not fit an 80-column terminal.
    console.print("Faults:")
    for f in card.faults:
        mark = "[green]pass[/]" if f.passed else "[red]FAIL[/]"
        back = "never back" if f.time_to_recover_s is None else f"back in {f.time_to_recover_s:g} s"
        console.print(
            f"  {mark} {f.experiment} at {f.injected_s:g} s: {back}, "
            f"{f.failures}/{f.requests} failed, {f.budget_consumed_pct:.3f} % of the budget, "
            f"hypothesis {f.hypothesis}; {f.chats} chats, {f.lost} lost, {f.duplicated} dup.",
            highlight=False,
        )
        if f.broken or f.alerts:
            console.print(
                f"      broke: {', '.join(f.broken) or 'nothing'}; alerts: {alert_text(f)}",
                highlight=False,
            )
    for name in card.not_run:
        console.print(f"  [red]FAIL[/] {name}: did not run, the load ended first", highlight=False)
    m = card.messages
    console.print(
        f"messages: {m['chats']} chats, {m['lost']} lost, {m['duplicated']} duplicated, "
        f"{m['refused']} refused at their POST, {m['in_flight']} cut by the run's end "
        f"({m['unjudged']} unjudged), {m['reconnects']} stream reconnects",
        highlight=False,
    )
    for reason in card.reasons:
        console.print(f"[red]{reason}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``verify``."""
    app.command()(verify)

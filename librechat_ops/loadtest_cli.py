"""``librechat-ops loadtest``: Locust journeys against LibreChat and the pass/fail SLO verdict.

Locust runs in its own processes; this module imports the load tests only when the command runs,
so ``librechat-ops --help`` stays fast and gevent never patches the command line.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from librechat_sim.config import LLMConfig, SimConfig
from librechat_sim.errors import SimError
from loadtests.errors import LoadtestError
from loadtests.shapes import DEFAULT_DURATION_S, WARMUP_S, parse_duration
from slos.errors import SloError

from .console import console, err_console, fail, stop_cleanly_on_sigterm
from .settings import Settings

if TYPE_CHECKING:
    from loadtests.capacity import StepPlan
    from loadtests.runner import Outcome


def _duration(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _warmup(value: str) -> float:
    """Whole seconds of ``--warmup`` (the timeline counts whole seconds: 0.5s leaves out one),
    or zero (``0s``) for none."""
    if re.fullmatch(r"0+(\.0*)?[smh]?", value.strip().lower()):
        return 0.0
    try:
        return float(math.ceil(parse_duration(value)))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--warmup") from None


def _plan(
    *, step_users: int, step_duration: str, max_steps: int, time_limit: str, warmup_s: float
) -> StepPlan:
    """The capacity search's steps, checked."""
    from loadtests.capacity import StepPlan  # noqa: PLC0415 (pydantic: not for --help)

    try:
        return StepPlan(
            step_users=step_users,
            step_duration_s=parse_duration(step_duration),
            max_steps=max_steps,
            warmup_s=warmup_s,
            time_limit_s=parse_duration(time_limit),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--find-capacity") from None


def _check_length(seconds: float | None, shape: str, warmup_s: float) -> None:
    length = seconds or DEFAULT_DURATION_S.get(shape)
    if length is not None and warmup_s >= length:
        raise typer.BadParameter(
            f"a {warmup_s:g}s warm-up leaves nothing of a {length:g}s run to judge",
            param_hint="--warmup",
        )


def _show(outcome: Outcome) -> None:
    """Print the verdict table, the reasons and the warnings; exit 1 when an SLO failed."""
    verdict = outcome.verdict
    table = Table(title=f"SLO verdict ({verdict.profile}, ms) against {verdict.host}")
    table.add_column("journey", no_wrap=True)
    for column in ("req", "fail", "p50", "p95", "p99", "target", "verdict"):
        table.add_column(column, justify="right")
    for j in verdict.journeys:
        mark = "[green]pass[/]" if j.passed else "[red]FAIL[/]"
        if not j.judged:
            mark = "-"
        numbers = [f"{v:g}" if v is not None else "-" for v in (j.p50_ms, j.p95_ms, j.p99_ms)]
        target_text = f"{j.target_p99_ms:g}" if j.target_p99_ms else "-"
        table.add_row(j.journey, str(j.requests), str(j.failures), *numbers, target_text, mark)
    console.print(table)
    if verdict.warmup_s > 0:
        from loadtests.report import warmup_note  # noqa: PLC0415

        console.print(warmup_note(verdict), highlight=False)
    for j in verdict.journeys:
        for reason in j.reasons:
            console.print(f"[red]{j.journey}[/]: {reason}", highlight=False)
    for warning in verdict.warnings:
        err_console.print(f"[bold yellow]warning:[/] {warning}", highlight=False)
    console.print(f"verdict {outcome.verdict_file}, report {outcome.report_file}", highlight=False)
    if not verdict.passed:
        console.print("[bold red]SLO verdict: FAIL[/]")
        raise typer.Exit(1)
    console.print("[bold green]SLO verdict: PASS[/]")


def loadtest(
    *,
    profile: Annotated[
        str,
        typer.Option(
            help="The environment whose SLOs judge the run (in the SLO file): laptop, staging, "
            "production..."
        ),
    ],
    report: Annotated[
        Path,
        typer.Option(
            help="Directory for verdict.json and report.html (capacity.* with --find-capacity)."
        ),
    ],
    target: Annotated[
        str | None, typer.Option(help="LibreChat URL; omitted: the simulator, for this run.")
    ] = None,
    users: Annotated[int, typer.Option(min=1, help="Peak simulated users.")] = 10,
    duration: Annotated[
        str | None, typer.Option(help="Run length: 90s, 5m, 1h (default: the shape's).")
    ] = None,
    shape: Annotated[str, typer.Option(help="Load shape: smoke, ramp, spike, soak.")] = "smoke",
    profiles: Annotated[
        Path | None,
        typer.Option(
            "--slo-file", "--profiles", help="Your copy of slos/slos.yaml, the SLO definition."
        ),
    ] = None,
    credentials: Annotated[
        Path | None, typer.Option(help="CSV of email,password of existing users (real targets).")
    ] = None,
    workers: Annotated[
        int, typer.Option(min=0, help="Locust worker processes (distributed mode).")
    ] = 0,
    chat_endpoint: Annotated[
        str, typer.Option(help="Endpoint behind the ephemeral agent of the chat journey.")
    ] = "openAI",
    chat_model: Annotated[
        str, typer.Option(help="Model the chat journey asks for.")
    ] = "gpt-4o-mini",
    sim_ttft_ms: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Simulator only: fix the mock LLM's time to first token (ms). Default: drawn "
            "per request from GPT-4o-mini's measured distribution.",
        ),
    ] = None,
    sim_tokens_per_second: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="Simulator only: fix the mock LLM's token rate. Default: drawn (measured).",
        ),
    ] = None,
    sim_llm_seed: Annotated[
        int, typer.Option(help="Simulator only: seed of the mock LLM's draws.")
    ] = 0,
    sim_replicas: Annotated[int, typer.Option(min=1, help="Simulator only: API replicas.")] = 2,
    sim_gateway: Annotated[
        bool,
        typer.Option(
            "--sim-gateway/--no-sim-gateway",
            help="Simulator only: the replicas call the AI gateway (LiteLLM with the production "
            "configuration) in front of two mock LLMs, not one mock LLM directly.",
        ),
    ] = True,
    warmup: Annotated[
        str,
        typer.Option(
            help="Leave the run's first seconds out of the verdict (every user logs in at once "
            "then); 0s judges the whole run."
        ),
    ] = f"{WARMUP_S:g}s",
    find_capacity: Annotated[
        bool,
        typer.Option(
            "--find-capacity",
            help="Instead of one run: add --step-users users every --step-duration until an SLO "
            "breaks (each step judged after its --warmup); report the knee, the last step with "
            "every SLO held: its req/s and chats in flight, in capacity.json/.png/.html "
            "(--users, --shape and --duration do not apply). Exit 0 with a figure, 1 when the "
            "first step already breaks an SLO.",
        ),
    ] = False,
    step_users: Annotated[
        int, typer.Option(min=1, help="--find-capacity: users added at each step.")
    ] = 4,
    step_duration: Annotated[
        str,
        typer.Option(
            help="--find-capacity: how long each step holds its users (longer: more requests "
            "behind each P99; below 100 a P99 is the slowest request)."
        ),
    ] = "60s",
    max_steps: Annotated[
        int, typer.Option(min=1, help="--find-capacity: the ramp ends after this many steps.")
    ] = 10,
    time_limit: Annotated[
        str, typer.Option(help="--find-capacity: the whole ramp ends by then.")
    ] = "30m",
) -> None:
    """Run the journeys headless, write the verdict and report; exit 0 only if every SLO holds.
    With --find-capacity, ramp the load in steps and report the capacity instead."""
    seconds = _duration(duration)
    warmup_s = _warmup(warmup)
    plan = None
    if find_capacity:
        if seconds is not None:
            raise typer.BadParameter(
                "--find-capacity runs --max-steps steps of --step-duration each",
                param_hint="--duration",
            )
        plan = _plan(
            step_users=step_users, step_duration=step_duration, max_steps=max_steps,
            time_limit=time_limit, warmup_s=warmup_s,
        )  # fmt: skip
    else:
        _check_length(seconds, shape, warmup_s)
    # pydantic, redis and matplotlib: imported when the command runs, not for --help.
    from loadtests.runner import LoadtestSpec, run  # noqa: PLC0415

    sim = None
    if target is None:
        sim = SimConfig(
            state_dir=Settings.from_env().state_dir / "loadtest",
            front_port=0,
            replica_base_port=0,
            redis_port=0,
            llm_port=0,
            replicas=sim_replicas,
            llm=LLMConfig(sim_ttft_ms, sim_tokens_per_second, seed=sim_llm_seed),
        )
        if sim_gateway:
            from .gateway import for_command  # noqa: PLC0415 (pulumi, via components)

            sim = sim.with_overrides(gateway=for_command(port=0, fallback_llm_port=0))
        err_console.print("starting the LibreChat API simulator for this run...")
    spec = LoadtestSpec(
        profile=profile,
        report_dir=report,
        profiles_file=profiles,
        target=target,
        users=users,
        duration_s=seconds,
        shape=shape,
        credentials_file=credentials,
        workers=workers,
        sim=sim,
        chat_endpoint=chat_endpoint,
        chat_model=chat_model,
        warmup_s=warmup_s,
    )
    stop_cleanly_on_sigterm()
    if plan is not None:
        from .capacity_cli import run_capacity  # noqa: PLC0415 (see above)

        run_capacity(spec, plan, Settings.from_env().state_dir)
        return
    try:
        outcome = run(spec)
    except (LoadtestError, SimError, SloError) as exc:
        fail(exc.message, exc.hint)
    _show(outcome)


def register(app: typer.Typer) -> None:
    """Add ``loadtest`` to the application."""
    app.command()(loadtest)

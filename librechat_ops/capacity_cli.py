"""``librechat-ops loadtest --find-capacity``: the step ramp's progress, table and capacity figure.

The options are ``loadtest``'s (:mod:`.loadtest_cli`); this module runs the search and prints it.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from librechat_sim.errors import SimError
from loadtests.capacity import MIN_P99_REQUESTS, Capacity, StepPlan, StepResult
from loadtests.errors import LoadtestError
from loadtests.runner import LoadtestSpec
from slos.errors import SloError

from .console import console, fail

SHORT = {
    "authentication": "auth",
    "login": "login",
    "message_delivery": "msg",
    "ai_inference": "ai",
    "time_to_complete": "reply",
    "search": "search",
    "file_operations": "files",
}
"""Short journey names for the progress lines and the table (others appear in full)."""


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _p99(step: StepResult, journey: str) -> str:
    """A journey's P99, starred when it rests on too few requests to be more than the slowest."""
    value = step.p99_ms.get(journey)
    if value is None:
        return "-"
    return f"{value:g}*" if journey in step.thin else f"{value:g}"


def progress_line(step: StepResult) -> str:
    """One line per judged step: users, rate, chats in flight, P99s, CPU, and what broke."""
    p99 = " ".join(f"{SHORT.get(j, j)} {_p99(step, j)}" for j in step.p99_ms)
    cpu = (
        f"generator {_percent(step.cpu.generator_cores)} service "
        f"{_percent(step.cpu.service_cores)} of a core"
    )
    if step.held:
        verdict = "[green]held[/]"
    elif step.generator_bound:
        verdict = "[red]generator saturated[/]"
    else:
        verdict = f"[red]broke {', '.join(step.broken)}[/]"
    return (
        f"step {step.step}: {step.users} users, {step.rps:.1f} req/s, "
        f"{step.concurrent_chats:.1f} chats in flight | P99 ms {p99} | {cpu} | {verdict}"
    )


def _print_step(step: StepResult) -> None:
    console.print(progress_line(step), highlight=False)
    for reason in step.reasons:
        console.print(f"  [red]{reason}[/]", highlight=False)


def _table(steps: tuple[StepResult, ...]) -> Table:
    journeys = list(steps[0].p99_ms) if steps else []
    table = Table(title="Capacity search, one row per step (CPU: % of one core)")
    for column in ("step", "users", "req/s", "chats", *(SHORT.get(j, j) for j in journeys)):
        table.add_column(column, justify="right")
    for column in ("generator", "service", "machine", "verdict"):
        table.add_column(column, justify="right")
    for s in steps:
        verdict = "held" if s.held else ("generator" if s.generator_bound else "+".join(s.broken))
        table.add_row(
            str(s.step), str(s.users), f"{s.rps:.1f}", f"{s.concurrent_chats:.1f}",
            *(_p99(s, j) for j in journeys),
            _percent(s.cpu.generator_cores), _percent(s.cpu.service_cores),
            _percent(s.cpu.machine_share), verdict,
        )  # fmt: skip
    return table


def _summary(capacity: Capacity, steps: tuple[StepResult, ...]) -> None:
    if capacity.rps is None:
        console.print(
            f"[bold red]no capacity within the SLOs:[/] {capacity.message}", highlight=False
        )
        return
    knee = next(s for s in steps if s.step == capacity.step)
    console.print(
        f"[bold green]capacity: {capacity.rps:g} req/s, {capacity.concurrent_chats:g} chats in "
        f"flight[/] ({capacity.users} users); limited by {capacity.limited_by}",
        highlight=False,
    )
    console.print(capacity.message, highlight=False)
    console.print(
        f"at the knee the generator used {_percent(knee.cpu.generator_cores)} of a core, the "
        f"service {_percent(knee.cpu.service_cores)}, the machine "
        f"{_percent(knee.cpu.machine_share)} of all its cores",
        highlight=False,
    )
    if knee.cpu.service_processes:
        busiest = sorted(knee.cpu.service_processes.items(), key=lambda kv: -kv[1])
        console.print(
            "the service's processes: " + ", ".join(f"{n} {_percent(c)}" for n, c in busiest),
            highlight=False,
        )


def run_capacity(spec: LoadtestSpec, plan: StepPlan, sim_state: Path) -> None:
    """Search, print each step as it is judged, then the table and the capacity; exit 0 with a
    capacity figure, 1 when the first step already broke an SLO."""
    from loadtests.capacity_run import find_capacity  # noqa: PLC0415 (matplotlib: not for --help)

    console.print(
        f"capacity search: +{plan.step_users} users every {plan.step_duration_s:g}s "
        f"(first {plan.warmup_s:g}s of each not judged), at most {plan.steps} steps",
        highlight=False,
    )
    try:
        outcome = find_capacity(
            spec,
            plan,
            sim_state=sim_state,
            on_step=_print_step,
        )
    except (LoadtestError, SimError, SloError) as exc:
        fail(exc.message, exc.hint)
    console.print(_table(outcome.steps))
    if any(s.thin for s in outcome.steps):
        console.print(
            f"* a P99 from fewer than {MIN_P99_REQUESTS} requests: the slowest of them "
            "(a longer --step-duration judges more)",
            highlight=False,
        )
    _summary(outcome.capacity, outcome.steps)
    console.print(
        f"capacity {outcome.json_file}, plot {outcome.plot_file}, report {outcome.report_file}",
        highlight=False,
    )
    if outcome.capacity.rps is None:
        raise typer.Exit(1)

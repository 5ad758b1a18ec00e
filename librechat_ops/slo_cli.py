"""``librechat-ops slo rules|dashboards``: what is generated from the SLO definition, written to
files: the Prometheus rules with their promtool tests, and the Grafana dashboards."""

from __future__ import annotations

import json
import time
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import typer

from slos import definition
from slos.definition import Environment
from slos.errors import SloError
from slos.files import PromtoolResult, check_rules, find_promtool, run_rule_tests, write

from .console import console, err_console, fail

slo_app = typer.Typer(
    help=(
        "Generate from the SLO definition (slos/slos.yaml, or a copy passed with --slo-file): "
        "Prometheus recording rules and multiwindow, multi-burn-rate alerts with their promtool "
        "unit tests, and Grafana dashboards."
    ),
    no_args_is_help=True,
)

EnvOption = Annotated[
    str,
    typer.Option(
        "--env",
        help="Environment of the SLO file: laptop, staging or production.",
        show_default=False,
    ),
]
OutOption = Annotated[
    Path,
    typer.Option(
        "--out",
        metavar="DIR",
        help="Directory to write into (made if missing; existing files are replaced).",
        show_default=False,
    ),
]
SloFileOption = Annotated[
    Path,
    typer.Option(
        "--slo-file",
        metavar="FILE",
        help="SLO definition to read instead of the shipped one (copy slos/slos.yaml, edit it).",
    ),
]
ScaleOption = Annotated[
    str,
    typer.Option(
        "--scale",
        metavar="X",
        help=(
            "Multiply every window by X, e.g. 1/60 to turn an hour into a minute for a short "
            "run (a fraction or a decimal; 1 is real time)."
        ),
    ),
]


def _scale(text: str) -> float:
    try:
        value = float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError):
        fail(f"--scale {text!r} is not a number", "pass a decimal or a fraction: 1, 0.5 or 1/60")
    if value <= 0:
        fail(f"--scale must be positive, got {text}", "pass 1 for real time, or e.g. 1/60")
    return value


def _environment(env: str, slo_file: Path) -> Environment:
    try:
        return definition.environment(env, slo_file)
    except SloError as exc:
        fail(exc.message, exc.hint)


def _report(what: str, result: PromtoolResult, passed: str, seconds: float) -> bool:
    if result.ok:
        console.print(f"[green]ok[/] {what}: {passed} ({seconds:.1f} s)", highlight=False)
    else:
        console.print(
            f"[bold red]FAILED[/] {what} (exit code {result.returncode}):", highlight=False
        )
        console.print(result.output, highlight=False, markup=False)
    return result.ok


@slo_app.command()
def rules(
    *,
    env: EnvOption,
    out: OutOption,
    slo_file: SloFileOption = definition.DEFAULT_FILE,
    scale: ScaleOption = "1",
    interval: Annotated[
        str,
        typer.Option(
            "--interval",
            help="How often Prometheus evaluates the rule groups (a duration: 30s, 1m).",
        ),
    ] = "30s",
    check: Annotated[
        bool,
        typer.Option(
            "--check/--no-check",
            help="Run `promtool check rules` and `promtool test rules` on what was written "
            "(when promtool is on PATH).",
        ),
    ] = True,
) -> None:
    """Write ENV's Prometheus rules and their promtool unit tests.

    DIR/librechat-slo-ENV.rules.yml holds, per journey and objective, the
    share of bad requests and the burn rate over every alert window and the
    SLO period (recording rules), and the SRE workbook's multiwindow,
    multi-burn-rate alerts: page at 14.4x over 1 h and 5 min, page at 6x
    over 6 h and 30 min, ticket at 1x over 3 d and 6 h. Load it into
    Prometheus with `rule_files`.

    DIR/librechat-slo-ENV.rules.test.yml, beside it, holds promtool unit
    tests in which every alert fires and stays quiet on synthetic series.
    Both are then checked with promtool (unless --no-check); the command
    exits 1 when promtool finds a problem.
    """
    factor = _scale(scale)
    slos = _environment(env, slo_file)
    try:
        written = write(env, slos, out, scale=factor, interval=interval)
    except SloError as exc:
        fail(exc.message, exc.hint)
    console.print(
        f"wrote {written.rules}: {written.records} recording rules, {written.alerts} alerts "
        f"(windows x{scale}, evaluated every {interval})",
        highlight=False,
    )
    console.print(f"wrote {written.tests}: {written.test_groups} promtool tests", highlight=False)
    if not check:
        return
    promtool = find_promtool()
    if promtool is None:
        console.print(
            "[yellow]not checked:[/] promtool is not on PATH (Debian: apt-get install "
            "prometheus); run `promtool test rules` on the test file where it is",
            highlight=False,
        )
        return
    ok = True
    for what, run, path, passed in (
        ("promtool check rules", check_rules, written.rules, "valid"),
        ("promtool test rules", run_rule_tests, written.tests, f"{written.test_groups} passed"),
    ):
        started = time.monotonic()
        with err_console.status(f"{what} {path.name}..."):
            try:
                result = run(path, promtool=promtool)
            except SloError as exc:
                fail(exc.message, exc.hint)
        ok = _report(what, result, passed, time.monotonic() - started) and ok
    if not ok:
        raise typer.Exit(1)


@slo_app.command()
def dashboards(
    *,
    env: EnvOption,
    out: OutOption,
    slo_file: SloFileOption = definition.DEFAULT_FILE,
    scale: ScaleOption = "1",
) -> None:
    """Write ENV's Grafana dashboards as JSON files.

    Per journey and objective: the share of bad requests, the burn rate over
    every alert window, the error budget left and the alerts firing; per
    PredictiveAutoscaler: forecast and actual load, replicas and the reason.
    They query the series `slo rules` records (give both the same --scale)
    and the operator exports. Import them into Grafana, or let its dashboard
    sidecar load them.
    """
    from slos import dashboards as boards  # noqa: PLC0415 - only this command needs it

    factor = _scale(scale)
    slos = _environment(env, slo_file)
    try:
        generated = boards.generate(env, slos, scale=factor)
    except SloError as exc:
        fail(exc.message, exc.hint)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, board in generated.items():
            (out / name).write_text(json.dumps(board, indent=2) + "\n")
    except OSError as exc:
        fail(
            f"cannot write the dashboards into {out}: {exc.strerror or exc}",
            "choose a directory you can write to with --out",
        )
    for name, board in generated.items():
        console.print(f"wrote {out / name}: {board.get('title', name)}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``slo`` command group to the application."""
    app.add_typer(slo_app, name="slo")

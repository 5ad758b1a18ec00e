"""``librechat-ops backtest``: replay a request trace through HPA, the predictive policy, an oracle.

This module reads the options, loads the series (CSV or Prometheus), shows progress on standard
error, and renders the results (a table, JSON, PNG plots). All the computing lives in the
``autoscaler`` package; its errors become one red line here. pandas, statsmodels and matplotlib
are imported when the command runs, not for ``--help`` or the other commands.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from autoscaler.errors import (
    AutoscalerError,
    EventsError,
    MetricsSourceError,
    SeriesError,
    TraceError,
    WindowError,
)

from .console import console, err_console, fail

if TYPE_CHECKING:
    import pandas as pd

    from autoscaler.backtest import BacktestResult, BacktestSettings, Prepared
    from autoscaler.report import FrontierPoint

_HINTS: dict[type[AutoscalerError], str] = {
    TraceError: "give a CSV with the header 'timestamp,requests', one sorted row per interval",
    WindowError: "choose a later --start or a longer window (see --help)",
    SeriesError: "check --start/--end/--resample (e.g. 1998-06-09, 1382400, +16d, 15min)",
    MetricsSourceError: "check the Prometheus URL, that it is up, and the --query",
    EventsError: "each event needs start and end (ISO 8601), optional name, rate, multiplier",
}


def backtest(
    *,
    trace: Annotated[
        Path | None, typer.Option("--trace", help="CSV with columns timestamp,requests.")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(help="Window start: ISO-8601, seconds (offset traces) or +DURATION."),
    ] = None,
    end: Annotated[str | None, typer.Option(help="Window end (exclusive), same forms.")] = None,
    resample_rule: Annotated[
        str | None, typer.Option("--resample", help="Sum onto a coarser grid, e.g. 15min.")
    ] = None,
    budget: Annotated[
        float,
        typer.Option(
            "--shortfall-budget",
            help="Share of intervals the predictive policy may under-provision (e.g. 0.001).",
        ),
    ] = 0.01,
    hpa_target: Annotated[
        float, typer.Option(help="Target utilisation of the fixed HPA shown beside hpa_best.")
    ] = 0.7,
    pod_capacity: Annotated[
        float | None,
        typer.Option(help="Requests per interval per pod (default: mean demand = 20 pods)."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the results as JSON here.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a PNG of demand and each policy's supply.")
    ] = None,
    sweep: Annotated[
        bool,
        typer.Option(
            "--frontier", help="Sweep the predictive budget too (cost against shortfall)."
        ),
    ] = False,
    prometheus: Annotated[
        str | None, typer.Option(help="Read the series from this Prometheus instead of a CSV.")
    ] = None,
    query: Annotated[
        str, typer.Option(help="PromQL giving requests per interval (with --prometheus).")
    ] = "librechat_trace_requests",
    step: Annotated[str, typer.Option(help="Query step (with --prometheus).")] = "60s",
    events: Annotated[
        Path | None,
        typer.Option(
            help="YAML list of known events (name, start, end, optional rate in requests per "
            "interval or multiplier of the seasonal base) the predictive policy is told of; "
            "e.g. autoscaler/data/worldcup98_matches.yaml."
        ),
    ] = None,
) -> None:
    """Compare Kubernetes' HPA, the predictive autoscaler and an oracle on one request trace.

    Each interval of the (resampled) series is one control step; pods take 120 s to start; the
    predictive policy decides from history before each decision only and keeps the shortfall
    budget. hpa_best is the cheapest HPA target (0.30-0.95) whose shortfall on this window is
    within the budget, chosen in hindsight. Reports pod-hours, under-provisioned time, SPEC
    theta_u/theta_o and scaling actions per policy; the 30-minute forecast's MASE; the peak
    nowcast's error against persistence; and the goal: realised shortfall <= 1.2 x the budget
    with <= 0.80 x the pod-hours of hpa_best, with the floor: the fewest pod-hours any policy,
    even one that knows the future, can pay within that shortfall (above 0.80 x hpa_best, no
    policy meets the goal on this window). With --events, each policy's shortfall during the
    events and outside them.
    """
    from autoscaler.backtest import BacktestSettings, prepare, run_backtest  # noqa: PLC0415
    from autoscaler.events import load_events  # noqa: PLC0415
    from autoscaler.report import frontier, to_json  # noqa: PLC0415 (statsmodels: not for --help)
    from autoscaler.series import parse_time, resample  # noqa: PLC0415

    if not 0 < hpa_target <= 1:
        fail(f"--hpa-target must be in (0, 1], got {hpa_target}", "e.g. --hpa-target 0.7")
    if not 0 < budget < 0.5:
        fail(f"--shortfall-budget must be in (0, 0.5), got {budget}", "e.g. 0.001 or 0.01")
    settings = BacktestSettings(pod_capacity=pod_capacity, shortfall_budget=budget)
    settings = replace(settings, hpa=replace(settings.hpa, target=hpa_target))
    try:
        if events is not None:
            settings = replace(settings, events=load_events(events))
        series, source = _load(
            trace=trace,
            prometheus=prometheus,
            query=query,
            step=step,
            start=start,
            end=end,
            settings=settings,
        )
        if resample_rule:
            series = resample(series, resample_rule)
        first = parse_time(start, series) if start else None
        last = parse_time(end, series) if end else None
        with _progress() as bar:
            task = bar.add_task("forecasting", total=None)
            prepared = prepare(
                series,
                settings,
                start=first,
                end=last,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        result = run_backtest(prepared)
        points = frontier(prepared, result) if sweep else None
    except AutoscalerError as exc:
        fail(str(exc), _HINTS.get(type(exc)))
    _render(result)
    if points is not None:
        _render_frontier(points)
    document = to_json(result, source=source, points=points)
    if json_out is not None:
        text = json.dumps(_jsonable(document), indent=2, allow_nan=False)
        _write(json_out, text + "\n")
    if plot is not None:
        _plot(result, prepared, points, plot)


def register(app: typer.Typer) -> None:
    """Add ``backtest`` to the application."""
    app.command()(backtest)


def _load(
    *,
    trace: Path | None,
    prometheus: str | None,
    query: str,
    step: str,
    start: str | None,
    end: str | None,
    settings: BacktestSettings,
) -> tuple[pd.Series, str]:
    import pandas as pd  # noqa: PLC0415 (see backtest)
    from pandas.tseries.frequencies import to_offset  # noqa: PLC0415

    from autoscaler.prometheus import PrometheusSource  # noqa: PLC0415
    from autoscaler.series import parse_time, read_trace  # noqa: PLC0415

    if (trace is None) == (prometheus is None):
        fail("give exactly one of --trace FILE and --prometheus URL")
    if trace is not None:
        return read_trace(trace), str(trace)
    assert prometheus is not None
    if start is None or end is None:
        fail("--prometheus needs --start and --end", "e.g. --start 1995-07-10 --end 1995-07-12")

    try:
        interval = pd.Timedelta(step)
    except ValueError:
        fail(f"--step {step!r} is not a duration", "e.g. --step 60s")
    probe = pd.Series([0.0], index=pd.DatetimeIndex([pd.Timestamp(0)]))
    first, last = parse_time(start, probe), parse_time(end, probe)
    history = settings.forecast.history + settings.warmup
    series = PrometheusSource(prometheus).range(
        query, start=first - history, end=last, step=interval
    )
    known = series.first_valid_index()
    series = series.loc[known:].asfreq(to_offset(interval))
    return series, f"{prometheus} {query}"


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )


def _render(result: BacktestResult) -> None:
    from autoscaler.report import verdict  # noqa: PLC0415 (see backtest)

    table = Table(
        title=(
            f"backtest {result.times[0]} .. {result.times[-1] + result.step} "
            f"({len(result.times)} x {_duration(result.step)}, "
            f"{result.pod_capacity:.4g} requests/pod/interval)"
        )
    )
    for column in (
        "policy",
        "pod-hours",
        "x oracle",
        "under-prov %",
        "theta_u",
        "theta_o",
        "actions",
    ):
        table.add_column(column, justify="right" if column != "policy" else "left")
    oracle = result.policies["oracle"].score.pod_hours
    for name, run in result.policies.items():
        s = run.score
        label = {
            "hpa": f"hpa (target {result.hpa_target:g})",
            "hpa_best": f"hpa_best (target {result.hpa_best_target:g})",
            "predictive": f"predictive (budget {result.budget:g})",
        }.get(name, name)
        table.add_row(
            label,
            f"{s.pod_hours:,.1f}",
            f"{s.pod_hours / oracle:.2f}" if oracle > 0 else "-",
            f"{s.under_provisioned_pct:.2f}",
            f"{s.theta_u:.2f}",
            f"{s.theta_o:.1f}",
            str(s.scaling_actions),
        )
    console.print(table)
    f = result.forecast
    console.print(
        f"forecast at {_duration(result.horizon)}: MASE {_num(f.mase)} (seasonal-naive scale), "
        f"MAE {_num(f.relative_mae)} x persistence's, sMAPE {_num(f.smape, '.1f')} % "
        f"({f.points} points); peak nowcast MAE {_num(f.peak_vs_persistence)} x persistence's "
        f"({f.peak_points} windows)",
        highlight=False,
    )
    if not result.hpa_best_within:
        if result.hpa_low is None:
            keeps = "nor does any down to 0.05"
        else:
            target, run = result.hpa_low
            keeps = (
                f"target {target:g} does, at {run.score.pod_hours:,.1f} pod-hours "
                f"({run.score.under_provisioned_pct:.3f} % under-provisioned)"
            )
        console.print(
            f"[yellow]no HPA target in 0.30-0.95 keeps the budget {result.budget:g} on this "
            f"window (hpa_best is the lowest); {keeps}[/]",
            highlight=False,
        )
    if result.events is not None:
        split = result.events.under_provisioned_pct
        parts = ", ".join(f"{name} {during:.2f} %" for name, (during, _) in split.items())
        console.print(
            f"known events: {result.events.count} ({result.events.intervals} intervals); "
            f"under-provisioned during them: {parts}",
            highlight=False,
        )
    flagged = ", ".join(
        f"{kind} {c['episodes']} ({c['intervals']} intervals)"
        for kind, c in result.anomalies.items()
    )
    console.print(f"anomalies flagged: {flagged}", highlight=False)
    if sum(result.reasons.values()):
        parts = ", ".join(f"{k} {v}" for k, v in result.reasons.most_common())
        console.print(f"predictive decisions: {parts}", highlight=False)
    if result.fits:
        models = ", ".join(sorted({fit.model for fit in result.fits}))
        warned = sum(len(fit.warnings) for fit in result.fits)
        console.print(
            f"model fits: {len(result.fits)} ({models}); {warned} warnings captured (see --json)",
            highlight=False,
        )
    check = verdict(result)
    mark = "[green]met[/]" if check.met else "[yellow]not met[/]"
    console.print(
        f"goal {mark}: realised shortfall {100 * check.realised:.3f} % of intervals against the "
        f"budget {100 * check.budget:g} % (goal <= {120 * check.budget:g} %); predictive "
        f"pod-hours {1 - check.saving:.2f}x hpa_best's (goal <= 0.80x)",
        highlight=False,
    )
    floor, limit = check.floor_vs_hpa_best, 120 * check.budget
    if floor is not None and math.isinf(floor):
        console.print(
            f"floor: no policy keeps the shortfall within {limit:g} % on this window (more "
            "intervals need more pods than the maximum)",
            highlight=False,
        )
    elif floor is not None:
        reach = "the goal is not ruled out" if check.reachable else "no policy can meet the goal"
        console.print(
            f"floor: the fewest pod-hours any policy (even one that knows the future) can pay "
            f"within {limit:g} % shortfall is {floor:.2f}x hpa_best's: {reach} on this window",
            highlight=False,
        )


def _render_frontier(points: list[FrontierPoint]) -> None:
    table = Table(title="frontier: cost against shortfall")
    for column in ("policy", "setting", "pod-hours", "under-prov %"):
        table.add_column(column, justify="left" if column == "policy" else "right")
    for point in points:
        label = "target" if point.policy == "hpa" else "budget"
        table.add_row(
            point.policy,
            f"{label} {point.setting:g}",
            f"{point.pod_hours:,.1f}",
            f"{point.under_provisioned_pct:.2f}",
        )
    console.print(table)


def _num(value: float | None, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def _duration(step: pd.Timedelta) -> str:
    seconds = int(step.total_seconds())
    if seconds % 60:
        return f"{seconds}s"
    return f"{seconds // 60}min"


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}", "choose a writable path")
    err_console.print(f"wrote {path}", highlight=False)


def _jsonable(value: Any) -> Any:
    """Non-finite floats become null (strict JSON); anything unknown becomes its text."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


def _plot(
    result: BacktestResult, prepared: Prepared, points: list[FrontierPoint] | None, path: Path
) -> None:
    import matplotlib  # noqa: PLC0415 (slow to import; only for --plot)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from autoscaler.series import step_of  # noqa: PLC0415

    panels = 2 if points else 1
    fig, axes = plt.subplots(panels, 1, figsize=(12, 4.5 * panels), squeeze=False)
    ax = axes[0][0]
    need = result.demand / result.pod_capacity
    ax.plot(result.times, need, color="black", linewidth=0.6, label="demand (pods needed)")
    colours = {
        "hpa": "tab:red",
        "hpa_best": "tab:orange",
        "predictive": "tab:blue",
        "oracle": "tab:green",
    }
    for name, run in result.policies.items():
        ax.step(
            result.times,
            run.supply.ready,
            where="post",
            linewidth=0.7,
            color=colours[name],
            label=f"{name} ready pods",
        )
    ax.set_ylabel("pods")
    ax.set_title(f"demand and supply, {_duration(step_of(prepared.series))} steps")
    ax.legend(loc="upper left")
    if points:
        bx = axes[1][0]
        for policy, colour in (("hpa", "tab:red"), ("predictive", "tab:blue")):
            mine = [p for p in points if p.policy == policy]
            bx.plot(
                [p.pod_hours for p in mine],
                [p.under_provisioned_pct for p in mine],
                "o-",
                color=colour,
                label=policy,
            )
            for p in mine:
                bx.annotate(f"{p.setting:g}", (p.pod_hours, p.under_provisioned_pct), fontsize=7)
        bx.set_xlabel("pod-hours")
        bx.set_ylabel("under-provisioned time, %")
        bx.set_title("frontier: HPA target vs predictive shortfall budget")
        bx.legend()
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}", "choose a writable path")
    finally:
        plt.close(fig)
    err_console.print(f"wrote {path}", highlight=False)

"""The capacity report: latency against load (P99 per journey against the request rate, the
generator's and the service's CPU on a second axis), the knee, and the per-step table.

``capacity.png`` is the plot; ``capacity.html`` is one self-contained page with it inlined.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from .capacity import MIN_P99_REQUESTS, StepResult


def latency_vs_load(
    steps: Sequence[StepResult], targets: Mapping[str, float], knee: int | None
) -> Figure:
    """P99 per journey (log scale) against each step's request rate, each journey's P99 target
    dashed in its colour, the knee and the first breaking step marked; CPU (% of one core) of the
    generator and the service on the right-hand axis."""
    figure = Figure(figsize=(10, 5))
    ax = figure.subplots()
    rps = [s.rps for s in steps]
    journeys = sorted({j for s in steps for j in s.p99_ms})
    for journey in journeys:
        values = [s.p99_ms.get(journey) for s in steps]
        if all(v is None for v in values):
            continue
        points = [(x, v) for x, v in zip(rps, values, strict=True) if v is not None]
        (line,) = ax.plot(
            [x for x, _ in points], [v for _, v in points], marker="o", label=f"{journey} P99"
        )
        if journey in targets:
            ax.axhline(targets[journey], color=line.get_color(), linestyle="--", linewidth=0.8)
    broke = next((s for s in steps if not s.held), None)
    if broke is not None:
        why = "generator" if broke.generator_bound else "+".join(broke.broken)
        ax.axvline(broke.rps, color="red", linestyle=":", label=f"broke: {why}")
    if knee is not None:
        at = next(s.rps for s in steps if s.step == knee)
        ax.axvline(at, color="green", linewidth=1.5, label=f"knee: {at:.0f} req/s")
    ax.set_yscale("log")
    ax.set_xlabel("sustained request rate (successful HTTP requests/s)")
    ax.set_ylabel("P99 latency, ms (log); dashed: the targets")
    cpu = ax.twinx()
    for label, attr, style in (
        ("generator CPU", "generator_cores", ":"),
        ("service CPU", "service_cores", "-."),
    ):
        points = [(s.rps, getattr(s.cpu, attr)) for s in steps if getattr(s.cpu, attr) is not None]
        if points:
            cpu.plot(
                [x for x, _ in points], [100 * v for _, v in points], color="black",
                linestyle=style, marker="x", label=f"{label} (right)",
            )  # fmt: skip
    cpu.set_ylabel("CPU, % of one core")
    cpu.set_ylim(bottom=0)
    handles, labels = ax.get_legend_handles_labels()
    more_handles, more_labels = cpu.get_legend_handles_labels()
    ax.legend(
        handles + more_handles, labels + more_labels, fontsize=7, loc="upper left",
        bbox_to_anchor=(1.08, 1),
    )  # fmt: skip
    ax.set_title("Latency against load, one point per step")
    return figure


def _number(value: float | None, scale: float = 1.0, digits: int = 0) -> str:
    return "-" if value is None else f"{value * scale:.{digits}f}"


def step_rows(steps: Sequence[StepResult], journeys: Sequence[str]) -> list[list[str]]:
    """The per-step table: users, req/s, chats in flight, P99 per journey, CPU, verdict."""
    rows = []
    for s in steps:
        verdict = "held" if s.held else ("generator" if s.generator_bound else "+".join(s.broken))
        rows.append(
            [
                str(s.step), str(s.users), f"{s.rps:.1f}", f"{s.concurrent_chats:.2f}",
                *(_number(s.p99_ms.get(j)) + ("*" if j in s.thin else "") for j in journeys),
                _number(s.cpu.generator_cores, 100), _number(s.cpu.service_cores, 100),
                _number(s.cpu.machine_share, 100), verdict,
            ]
        )  # fmt: skip
    return rows


def table_header(journeys: Sequence[str]) -> list[str]:
    """The per-step table's columns."""
    return [
        "step", "users", "req/s", "chats in flight", *(f"{j} P99 ms" for j in journeys),
        "generator CPU %", "service CPU %", "machine CPU %", "verdict",
    ]  # fmt: skip


def render(document: Mapping[str, Any], steps: Sequence[StepResult], plot_png: bytes) -> str:
    """The capacity report as one self-contained HTML page."""
    capacity = document["capacity"]
    journeys = sorted({j for s in steps for j in s.p99_ms})
    header = "".join(f"<th>{html.escape(h)}</th>" for h in table_header(journeys))
    body = []
    for step, row in zip(steps, step_rows(steps, journeys), strict=True):
        cls = "pass" if step.held else "fail"
        body.append(f'<tr class="{cls}">' + "".join(f"<td>{html.escape(c)}</td>" for c in row))
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in capacity["reasons"])
    plan = document["plan"]
    machine = document["machine"]
    figure = (
        f"{capacity['rps']:g} req/s, {capacity['concurrent_chats']:g} chats in flight"
        if capacity["rps"] is not None
        else "none"
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>librechat-ops capacity: {html.escape(figure)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }} table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; }} .fail {{ background: #fdd; }}
.pass {{ background: #dfd; }}
</style></head><body>
<h1>Capacity: {html.escape(figure)}</h1>
<p>{html.escape(capacity["message"])}.</p>
<p>Limited by <b>{html.escape(capacity["limited_by"])}</b>.</p><ul>{reasons}</ul>
<p>Profile <b>{html.escape(document["profile"])}</b> against {html.escape(document["host"])};
steps of {plan["step_users"]} users held {plan["step_duration_s"]:g} s each (the first
{plan["warmup_s"]:g} s of each not judged), at most {plan["steps"]} steps.
{machine["cores"]} cores, load average {machine["load_average_before"][0]:g} before the run.
CPU columns: % of one core, over each step's judged seconds. A starred P99 rests on fewer
than {MIN_P99_REQUESTS} requests: it is the slowest of them.</p>
<img alt="latency against load" src="data:image/png;base64,{base64.b64encode(plot_png).decode()}">
<table><tr>{header}</tr>
{"".join(body)}
</table>
</body></html>
"""


def write_capacity_report(
    document: Mapping[str, Any], steps: Sequence[StepResult], directory: Path
) -> tuple[Path, Path]:
    """Write ``capacity.png`` and ``capacity.html`` into ``directory``; return both paths."""
    targets = {k: float(v) for k, v in document.get("targets", {}).items()}
    figure = latency_vs_load(steps, targets, document["capacity"]["step"])
    plot = directory / "capacity.png"
    figure.savefig(plot, format="png", dpi=90, bbox_inches="tight")
    page = directory / "capacity.html"
    page.write_text(render(document, steps, plot.read_bytes()))
    return plot, page

"""The scorecard on disk: ``scorecard.json``, ``scorecard.html`` and its plots as PNG files."""

from __future__ import annotations

import html
import json
from collections import defaultdict
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from loadtests.common.names import JOURNEY_ENTRIES
from loadtests.results import RunResults, merge, percentile

from .scorecard import FaultResult, Scorecard, SloResult


def _shade(ax: Axes, card: Scorecard) -> None:
    for index, fault in enumerate(card.faults):
        start, end = fault.window_s
        color = "tab:green" if fault.passed else "tab:red"
        ax.axvspan(start, end, color=color, alpha=0.12)
        ax.axvline(fault.injected_s, color=color, linestyle="--", linewidth=1)
        ax.annotate(
            f"{index + 1}. {fault.experiment}",
            (fault.injected_s, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
        )


def traffic_plot(results: RunResults, card: Scorecard, path: Path) -> None:
    """Requests and failures per second, with each fault's window shaded."""
    per: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for second, _name, cell in results.timeline:
        per[second][0] += cell.requests
        per[second][1] += cell.failures
    seconds = sorted(per)
    figure = Figure(figsize=(10, 3.8))
    ax = figure.subplots()
    ax.plot(seconds, [per[s][0] for s in seconds], label="requests/s", color="tab:blue")
    ax.plot(seconds, [per[s][1] for s in seconds], label="failures/s", color="tab:red")
    _shade(ax, card)
    ax.set_xlabel("seconds into the run")
    ax.set_ylabel("per second")
    ax.set_title("Traffic and failures (shaded: fault windows; green passed, red failed)")
    ax.legend(loc="upper left", fontsize=8)
    figure.savefig(path, dpi=90, bbox_inches="tight")


def latency_plot(results: RunResults, card: Scorecard, path: Path) -> None:
    """Each judged journey's P99 per second (log scale) against its target."""
    cells: dict[str, dict[int, list[dict[int, int]]]] = defaultdict(lambda: defaultdict(list))
    journey_of = {e: j for j, entries in JOURNEY_ENTRIES.items() for e in entries}
    for second, name, cell in results.timeline:
        if name in journey_of:
            cells[journey_of[name]][second].append(cell.response_times)
    figure = Figure(figsize=(10, 3.8))
    ax = figure.subplots()
    for slo in card.slos:
        series = cells.get(slo.journey, {})
        seconds = sorted(series)
        values = [percentile(merge(series[s]), 0.99) or 0 for s in seconds]
        (line,) = ax.plot(seconds, values, label=slo.journey, linewidth=1)
        if slo.target_p99_ms:
            ax.axhline(slo.target_p99_ms, color=line.get_color(), linestyle=":", linewidth=1)
    _shade(ax, card)
    ax.set_yscale("log")
    ax.set_xlabel("seconds into the run")
    ax.set_ylabel("P99 per second (ms)")
    ax.set_title("Latency by journey (dotted: P99 targets)")
    ax.legend(loc="upper left", fontsize=7, bbox_to_anchor=(1, 1))
    figure.savefig(path, dpi=90, bbox_inches="tight")


def budget_plot(card: Scorecard, limit_pct: float, path: Path) -> None:
    """The error budget each fault burned, against the limit."""
    figure = Figure(figsize=(7, 3.2))
    ax = figure.subplots()
    names = [f.experiment for f in card.faults]
    values = [f.budget_consumed_pct for f in card.faults]
    colors = ["tab:green" if f.passed else "tab:red" for f in card.faults]
    ax.barh(names, values, color=colors)
    ax.axvline(limit_pct, color="black", linestyle="--", linewidth=1, label="limit per fault")
    ax.set_xlabel(f"% of the {card.time_window} error budget")
    ax.set_title("Error budget burned by each fault")
    ax.legend(fontsize=8)
    figure.savefig(path, dpi=90, bbox_inches="tight")


def _row(cells: list[str]) -> str:
    return "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"


def _mark(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def _slo_cells(s: SloResult) -> list[str]:
    p99 = "-" if s.p99_ms is None else f"{s.p99_ms:g}"
    target = "-" if s.target_p99_ms is None else f"{s.target_p99_ms:g}"
    errors = f"{s.error_ratio:.3%}"
    why = "; ".join(s.reasons)
    return [s.journey, str(s.requests), str(s.failures), p99, target, errors, _mark(s.passed), why]


def alert_text(f: FaultResult) -> str:
    """The alerts a fault fired, one phrase each (``-`` when none)."""
    parts = []
    for a in f.alerts:
        detect = (
            "already firing" if a.time_to_detect_s is None else f"after {a.time_to_detect_s:g} s"
        )
        resolved = "unresolved" if a.resolved_at_s is None else f"resolved at {a.resolved_at_s:g} s"
        parts.append(f"{a.name} ({a.journey} {a.objective}) {detect}, {resolved}")
    return "; ".join(parts) or "-"


def _fault_cells(f: FaultResult) -> list[str]:
    ttr = "never" if f.time_to_recover_s is None else f"{f.time_to_recover_s:g}"
    failed = f"{f.failures}/{f.requests}"
    budget = f"{f.budget_consumed_pct:.3f}"
    why = "; ".join(f.reasons)
    at = f"{f.injected_s:g}"
    chats = f"{f.chats} / {f.lost} / {f.duplicated}"
    broke = ", ".join(f.broken) or "-"
    return [
        f.experiment, at, ttr, failed, budget, chats, f.hypothesis, broke, alert_text(f),
        _mark(f.passed), why,
    ]  # fmt: skip


def write(card: Scorecard, results: RunResults, limit_pct: float, out: Path) -> Path:
    """Write the JSON, the plots and the HTML page; returns the page."""
    (out / "scorecard.json").write_text(json.dumps(card.to_dict(), indent=2))
    traffic_plot(results, card, out / "traffic.png")
    latency_plot(results, card, out / "latency.png")
    budget_plot(card, limit_pct, out / "budget.png")
    slo_rows = [_row(_slo_cells(s)) for s in card.slos]
    fault_rows = [_row(_fault_cells(f)) for f in card.faults]
    fault_rows += [
        _row([name, "-", "-", "-", "-", "-", "-", "-", "-", "FAIL", "did not run"])
        for name in card.not_run
    ]
    messages = card.messages
    verdict = "PASS" if card.passed else "FAIL"
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in card.reasons)
    reasons = f"<ul>{reasons}</ul>" if reasons else ""
    examples = ""
    if messages["examples"]:
        examples = "<p>Examples:</p><pre>{}</pre>".format(
            html.escape(json.dumps(messages["examples"], indent=2))
        )
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>Verification: {verdict}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}
td,th{{border:1px solid #ccc;padding:3px 8px}}table{{border-collapse:collapse}}</style></head>
<body><h1>Verification ({html.escape(card.profile)}): {verdict}</h1>
{reasons}
<p>{card.requests} requests in {card.run_s:g} s, {card.failures} failed:
{card.budget_consumed_pct:.3f}% of the {card.time_window} error budget at
{card.availability:.3%} availability.</p>
<h2>SLOs in steady state (outside the fault windows and the warm-up)</h2>
<table><tr><th>journey</th><th>requests</th><th>failures</th><th>P99 ms</th><th>target</th>
<th>errors</th><th>verdict</th><th>why</th></tr>{"".join(slo_rows)}</table>
<h2>Faults</h2>
<table><tr><th>experiment</th><th>at s</th><th>recovered in s</th><th>failed</th>
<th>budget %</th><th>chats / lost / dup.</th><th>hypothesis</th><th>objectives broken</th>
<th>alerts (time to detect)</th><th>verdict</th><th>why</th>
</tr>{"".join(fault_rows)}</table>
<p>Alerts: the generated SLO rules (<code>librechat-ops slo rules</code>) in a real Prometheus
and Alertmanager, {html.escape(str(card.alerting.get("note", "not watched")))}; the time to
detect runs from the injection to Alertmanager's notification. The simulator is a stand-in for
LibreChat: these are its metrics.</p>
<h2>Messages</h2>
<p>{messages["chats"]} chats: {messages["lost"]} lost, {messages["duplicated"]} duplicated,
{messages["refused"]} refused at their first POST (counted as errors; none may be stored),
{messages["in_flight"]} cut by the run's end (resumed, then judged; {messages["unjudged"]} before
the server named their stream),
{messages["reconnects"]} stream reconnects.</p>
{examples}
<h2>Plots</h2><img src="traffic.png"><img src="latency.png"><img src="budget.png">
<p>Journals: <code>faults/</code>; Locust: <code>locust.html</code>.</p>
</body></html>"""
    page_file = out / "scorecard.html"
    page_file.write_text(page)
    return page_file

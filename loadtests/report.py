"""The HTML report: the verdict table and latency plots (matplotlib, PNGs inlined)."""

from __future__ import annotations

import base64
import html
import io
from collections import defaultdict
from pathlib import Path

from matplotlib.figure import Figure

from .results import RunResults
from .slo import Verdict


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def latency_over_time(results: RunResults) -> str:
    """Scatter of every sampled request: time into the run against latency, per entry."""
    figure = Figure(figsize=(10, 4.5))
    ax = figure.subplots()
    by_name: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for t, name, ms in results.samples:
        by_name[name][0].append(t)
        by_name[name][1].append(ms)
    for name, (ts, values) in sorted(by_name.items()):
        ax.scatter(ts, values, s=4, label=name, alpha=0.6)
    ax.set_yscale("log")
    ax.set_xlabel("seconds into the run")
    ax.set_ylabel("latency (ms, log scale)")
    ax.set_title("Latency of sampled requests")
    if by_name:
        ax.legend(fontsize=7, markerscale=3, loc="upper left", bbox_to_anchor=(1, 1))
    return _png(figure)


def percentiles_vs_targets(verdict: Verdict) -> str:
    """P50/P95/P99 per journey, with the P99 target as a marker."""
    figure = Figure(figsize=(10, 4.5))
    ax = figure.subplots()
    journeys = [j for j in verdict.journeys if j.requests]
    xs = range(len(journeys))
    for offset, label, attr in (
        (-0.25, "P50", "p50_ms"),
        (0, "P95", "p95_ms"),
        (0.25, "P99", "p99_ms"),
    ):
        values = [getattr(j, attr) or 0 for j in journeys]
        ax.bar([x + offset for x in xs], values, width=0.25, label=label)
    targets = [(x, j.target_p99_ms) for x, j in zip(xs, journeys, strict=True) if j.target_p99_ms]
    if targets:
        ax.scatter(
            [x + 0.25 for x, _ in targets], [t for _, t in targets], marker="_", s=900,
            color="red", label="P99 target", zorder=3,
        )  # fmt: skip
    ax.set_xticks(list(xs), [j.journey for j in journeys], rotation=20)
    ax.set_yscale("log")
    ax.set_ylabel("ms (log scale)")
    ax.set_title("Latency percentiles per journey")
    ax.legend()
    return _png(figure)


def warmup_note(verdict: Verdict) -> str:
    """What the verdict left out, in words (empty when nothing was)."""
    if verdict.warmup_s <= 0:
        return ""
    return (
        f"The first {verdict.warmup_s:g} s (the warm-up: every user logs in at once; "
        f"{verdict.warmup_requests} requests) are not judged."
    )


def render(verdict: Verdict, results: RunResults) -> str:
    """The report as one self-contained HTML page."""
    rows = []
    for j in verdict.journeys:
        status = "PASS" if j.passed else "FAIL"
        if not j.judged:
            status = "not judged"
        cells = [
            j.journey, str(j.requests), str(j.failures),
            *(f"{v:g}" if v is not None else "-" for v in (j.p50_ms, j.p95_ms, j.p99_ms)),
            f"{j.target_p99_ms:g}" if j.target_p99_ms else "-", status, "; ".join(j.reasons),
        ]  # fmt: skip
        cls = "pass" if j.passed else "fail"
        rows.append(f'<tr class="{cls}">' + "".join(f"<td>{html.escape(c)}</td>" for c in cells))
    warnings = "".join(f'<p class="warn">{html.escape(w)}</p>' for w in verdict.warnings)
    overall = "PASS" if verdict.passed else "FAIL"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>librechat-ops loadtest: {overall}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }} table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; }} .fail {{ background: #fdd; }}
.pass {{ background: #dfd; }} .warn {{ color: #a60; font-weight: bold; }}
</style></head><body>
<h1>Load test verdict: {overall}</h1>
<p>Profile <b>{html.escape(verdict.profile)}</b> against {html.escape(verdict.host)};
{verdict.wall_s:.0f} s, peak {results.peak_users} users; generator CPU
{verdict.generator_cpu_share:.0%} of a core per process.
{html.escape(warmup_note(verdict))}</p>
{warnings}
<table><tr><th>journey</th><th>requests</th><th>failures</th><th>P50 ms</th><th>P95 ms</th>
<th>P99 ms</th><th>P99 target</th><th>verdict</th><th>why</th></tr>
{"".join(rows)}
</table>
<h2>Percentiles against targets</h2>
<img alt="percentiles" src="data:image/png;base64,{percentiles_vs_targets(verdict)}">
<h2>Latency over time</h2>
<img alt="latency over time" src="data:image/png;base64,{latency_over_time(results)}">
</body></html>
"""


def write_report(verdict: Verdict, results: RunResults, directory: Path) -> Path:
    """Write ``report.html`` into ``directory``."""
    path = directory / "report.html"
    path.write_text(render(verdict, results))
    return path

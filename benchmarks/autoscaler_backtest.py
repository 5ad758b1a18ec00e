"""Backtest figures for every trace, development and evaluation windows, at each shortfall budget.

Run: ``.venv/bin/python benchmarks/autoscaler_backtest.py [--only NAME] [--budgets 0.001,0.01]
[--json OUT]``

One configuration of the predictive autoscaler (the defaults of ``BacktestSettings``) serves every
trace. Development windows (the only ones the configuration was tuned on): WorldCup98 up to
1998-06-09, NASA July 1995, Alibaba's first 16 days. Everything after them is evaluation; the
Azure trace (one hour) is evaluation only. Per window and budget B: the predictive policy's
realised shortfall as a multiple of B and its pod-hours as a multiple of ``hpa_best`` (the
cheapest HPA target in 0.30..0.95 within B, in hindsight; ``*`` when no target keeps B, then the
lowest), the goal (realised <= 1.2 B and pod-hours <= 0.80 x hpa_best), the 30-minute MASE and the
peak nowcast's MAE relative to persistence, and the anomalies flagged (surge and drop episodes).
``floor/best`` is the fewest pod-hours any policy, even one that knows the future, can pay while
keeping the shortfall within 1.2 B, as a multiple of ``hpa_best``: above 0.80 the goal cannot be
met on that window by any policy (``n/a``: a start-up of more than four intervals, not computed).
With ``--events``, the traces that have a schedule of known events (WorldCup98: the 1998 match
schedule, ``autoscaler/data/worldcup98_matches.yaml``) run twice per budget, without and with it,
and the rows add each policy's under-provisioned share during the events (``pred@ev``,
``best@ev``). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

# Python puts this directory first on sys.path, and benchmarks/platform.py would shadow the
# standard library's ``platform`` (which pandas imports): drop it, the package is installed.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from autoscaler.backtest import BacktestResult, BacktestSettings, prepare, run_backtest  # noqa: E402
from autoscaler.events import Event, load_events  # noqa: E402
from autoscaler.report import verdict  # noqa: E402
from autoscaler.series import parse_time, read_trace, resample  # noqa: E402

TRACES = Path(__file__).resolve().parents[2] / "shared" / "traces"
SCHEDULES = {
    "worldcup98": Path(__file__).resolve().parents[1]
    / "autoscaler"
    / "data"
    / "worldcup98_matches.yaml"
}
"""Known-event files, by trace (built from public schedules, never from the demand)."""

# name, file, resample rule, [(window, start, end)] with None = trace start (+ warm-up) / end
WINDOWS = [
    (
        "worldcup98",
        "worldcup98_per_minute.csv",
        None,
        [("dev", None, "1998-06-09"), ("eval", "1998-06-09", None)],
    ),
    (
        "nasa",
        "nasa_http_1995_per_minute.csv",
        None,
        [("dev", None, "1995-07-28T17:32"), ("eval", "1995-08-01T04:00", None)],
    ),
    (
        "alibaba",
        "alibaba_genai_lora_2024_per_minute.csv",
        "15min",
        [("dev", None, "+16d"), ("eval", "+16d", None)],
    ),
    ("azure", "azure_llm_conv_2023_per_second.csv", None, [("eval", None, None)]),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--traces", type=Path, default=TRACES)
    parser.add_argument("--only", help="run only this trace (worldcup98, nasa, alibaba, azure)")
    parser.add_argument("--window", choices=["dev", "eval"], help="run only this kind of window")
    parser.add_argument("--budgets", default="0.001,0.01", help="comma-separated budgets")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    parser.add_argument(
        "--events",
        action="store_true",
        help="run traces with a known-event schedule without and with it",
    )
    args = parser.parse_args()
    budgets = [float(b) for b in args.budgets.split(",")]
    rows = []
    header = (
        f"{'trace':<11}{'window':<7}{'budget':>7}{'steps':>8}{'pred pod-h':>12}{'best pod-h':>12}"
        f"{'best tgt':>9}{'pred/best':>10}{'floor/best':>11}{'real/B':>8}{'best/B':>8}"
        f"{'pred/orc':>9}"
        f"{'MASE':>7}{'peak/pers':>10}{'surges':>7}{'drops':>6}{'goal':>6}{'secs':>6}"
        f"{'events':>7}{'pred@ev':>8}{'best@ev':>8}"
    )
    print(header)
    for name, file, rule, windows in WINDOWS:
        if args.only and args.only != name:
            continue
        series = read_trace(args.traces / file)
        if rule:
            series = resample(series, rule)
        for window, start, end in windows:
            if args.window and args.window != window:
                continue
            schedules: list[tuple[Event, ...]] = [()]
            if args.events and name in SCHEDULES:
                schedules.append(load_events(SCHEDULES[name]))
            for budget, events in ((b, e) for b in budgets for e in schedules):
                began = time.perf_counter()
                settings = BacktestSettings(shortfall_budget=budget, events=events)
                prepared = prepare(
                    series,
                    settings,
                    start=parse_time(start, series) if start else None,
                    end=parse_time(end, series) if end else None,
                )
                result = run_backtest(prepared)
                seconds = time.perf_counter() - began
                pred, best, orc = (
                    result.policies[k].score for k in ("predictive", "hpa_best", "oracle")
                )
                check = verdict(result)
                f = result.forecast
                low = result.hpa_low
                rows.append(
                    {
                        "trace": name,
                        "window": window,
                        "budget": budget,
                        "steps": len(result.times),
                        "start": str(result.times[0]),
                        "end": str(result.times[-1] + result.step),
                        "predictive": asdict(pred),
                        "hpa_best": {**asdict(best), "target": result.hpa_best_target},
                        "hpa_best_within_budget": result.hpa_best_within,
                        "hpa_within_budget": (
                            None if low is None else {**asdict(low[1].score), "target": low[0]}
                        ),
                        "oracle": asdict(orc),
                        "floor_pod_hours": result.floor_pod_hours,
                        "forecast": asdict(f),
                        "goal": asdict(check),
                        "decisions": dict(result.reasons),
                        "anomalies": result.anomalies,
                        "events": None if result.events is None else asdict(result.events),
                        "seconds": seconds,
                    }
                )
                star = "" if result.hpa_best_within else "*"
                print(
                    f"{name:<11}{window:<7}{budget:>7g}{len(result.times):>8}"
                    f"{pred.pod_hours:>12,.0f}{best.pod_hours:>12,.0f}"
                    f"{result.hpa_best_target:>8.2f}{star:1}{1 - check.saving:>10.3f}"
                    f"{_num(check.floor_vs_hpa_best, 3):>11}"
                    f"{check.realised / budget:>8.2f}"
                    f"{best.under_provisioned_pct / 100 / budget:>8.2f}"
                    f"{check.predictive_vs_oracle:>9.2f}{_num(f.mase):>7}"
                    f"{_num(f.peak_vs_persistence):>10}"
                    f"{result.anomalies['surge']['episodes']:>7}"
                    f"{result.anomalies['drop']['episodes']:>6}{'met' if check.met else 'no':>6}"
                    f"{seconds:>6.0f}{_events(result)}",
                    flush=True,
                )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)


def _events(result: BacktestResult) -> str:
    if result.events is None:
        return f"{'-':>7}"
    split = result.events.under_provisioned_pct
    return f"{result.events.count:>7}{split['predictive'][0]:>7.2f}%{split['hpa_best'][0]:>7.2f}%"


def _num(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


if __name__ == "__main__":
    main()

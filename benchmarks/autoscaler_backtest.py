"""Backtest figures for every trace, development and evaluation windows, in one table.

Run: ``.venv/bin/python benchmarks/autoscaler_backtest.py [--only NAME] [--json OUT]``

One configuration of the predictive autoscaler (the defaults of ``BacktestSettings``) serves every
trace. Development windows (the only ones the configuration was tuned on): WorldCup98 up to
1998-06-09, NASA July 1995, Alibaba's first 16 days. Everything after them is evaluation; the
Azure trace (one hour) is evaluation only. Prints figures; asserts nothing.
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

import numpy as np  # noqa: E402

from autoscaler.backtest import BacktestSettings, prepare, run_backtest  # noqa: E402
from autoscaler.report import FrontierPoint, frontier, verdict  # noqa: E402
from autoscaler.series import parse_time, read_trace, resample  # noqa: E402

TRACES = Path(__file__).resolve().parents[2] / "shared" / "traces"

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


def equal_risk_saving(points: list[FrontierPoint], hpa_under: float, hpa_hours: float) -> float:
    """Pod-hours saved vs HPA(0.7) by the predictive frontier at the HPA's under-provisioning.

    Linear interpolation of the predictive frontier (pod-hours against under-provisioned %);
    NaN when the HPA's shortfall lies outside the swept range.
    """
    mine = sorted((p for p in points if p.policy == "predictive"), key=lambda p: p.pod_hours)
    unders = np.array([p.under_provisioned_pct for p in mine])
    hours = np.array([p.pod_hours for p in mine])
    if not unders.min() <= hpa_under <= unders.max():
        return float("nan")
    order = np.argsort(unders)
    return float(1 - np.interp(hpa_under, unders[order], hours[order]) / hpa_hours)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--traces", type=Path, default=TRACES)
    parser.add_argument("--only", help="run only this trace (worldcup98, nasa, alibaba, azure)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args()
    settings = BacktestSettings()
    rows = []
    header = (
        f"{'trace':<11}{'window':<7}{'steps':>8}{'HPA pod-h':>12}{'pred pod-h':>12}"
        f"{'oracle':>10}{'pred/HPA':>9}{'pred/orc':>9}{'HPA/orc':>8}{'HPA und%':>9}"
        f"{'pred und%':>10}{'MASE':>7}{'sMAPE':>7}{'eq-risk sav':>12}{'goal':>6}{'secs':>6}"
    )
    print(header)
    for name, file, rule, windows in WINDOWS:
        if args.only and args.only != name:
            continue
        series = read_trace(args.traces / file)
        if rule:
            series = resample(series, rule)
        for window, start, end in windows:
            began = time.perf_counter()
            prepared = prepare(
                series,
                settings,
                start=parse_time(start, series) if start else None,
                end=parse_time(end, series) if end else None,
            )
            result = run_backtest(prepared)
            points = frontier(prepared)
            seconds = time.perf_counter() - began
            hpa, pred, orc = (result.policies[k].score for k in ("hpa", "predictive", "oracle"))
            check = verdict(result)
            saving = equal_risk_saving(points, hpa.under_provisioned_pct, hpa.pod_hours)
            f = result.forecast
            row = {
                "trace": name,
                "window": window,
                "steps": len(result.times),
                "start": str(result.times[0]),
                "end": str(result.times[-1] + result.step),
                "hpa": asdict(hpa),
                "predictive": asdict(pred),
                "oracle": asdict(orc),
                "forecast": asdict(f),
                "goal": asdict(check),
                "equal_risk_saving": saving,
                "decisions": dict(result.reasons),
                "frontier": [asdict(p) for p in points],
                "seconds": seconds,
            }
            rows.append(row)
            mase = "n/a" if f.mase is None else f"{f.mase:.2f}"
            smape = "n/a" if f.smape is None else f"{f.smape:.0f}%"
            print(
                f"{name:<11}{window:<7}{len(result.times):>8}{hpa.pod_hours:>12,.0f}"
                f"{pred.pod_hours:>12,.0f}{orc.pod_hours:>10,.0f}"
                f"{pred.pod_hours / hpa.pod_hours:>9.3f}{check.predictive_vs_oracle:>9.2f}"
                f"{check.hpa_vs_oracle:>8.2f}{hpa.under_provisioned_pct:>9.2f}"
                f"{pred.under_provisioned_pct:>10.2f}{mase:>7}{smape:>7}{saving:>12.1%}"
                f"{'met' if check.met else 'no':>6}{seconds:>6.0f}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Time per control step of one service's predictive autoscaler, refits amortised.

Run: ``.venv/bin/python benchmarks/autoscaler_step.py [--days 14] [--steps 2880] [--trace FILE]``

The autoscaler is given ``--days`` of 1-minute history (a real trace, NASA August 1995 by
default), then makes ``--steps`` control steps on the minutes that follow. The first step selects
and fits the seasonal model (rolling-origin comparison of the candidates on 15-minute bins); it
is refitted once a day and re-selected once a week, so two days of steps include one selection and
one refit: their cost is amortised over the steps they serve. Pinned to one core with one BLAS
thread. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# Python puts this directory first on sys.path, and benchmarks/platform.py would shadow the
# standard library's ``platform`` (which pandas imports): drop it, the package is installed.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from autoscaler.capacity import CapacitySettings  # noqa: E402
from autoscaler.controller import AutoscalerSettings, PredictiveAutoscaler  # noqa: E402
from autoscaler.series import read_trace  # noqa: E402

TRACE = Path(__file__).resolve().parents[2] / "shared" / "traces" / "nasa_http_1995_per_minute.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trace", type=Path, default=TRACE)
    parser.add_argument("--start", default="1995-08-03T09:00", help="first minute of history")
    parser.add_argument("--days", type=float, default=14.0, help="history before the first step")
    parser.add_argument("--steps", type=int, default=2880, help="control steps to time")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    series = read_trace(args.trace).loc[args.start :]
    history = int(args.days * 1440)
    if len(series) < history + args.steps:
        raise SystemExit(f"the trace has {len(series)} minutes after {args.start}; need more")
    values = series.to_numpy()
    mean = float(np.nanmean(values[: history + args.steps]))
    settings = AutoscalerSettings(capacity=CapacitySettings(pod_capacity=mean / 20))
    autoscaler = PredictiveAutoscaler(settings)
    autoscaler.preload(series.index[0], values[:history])
    times: list[float] = []
    for i in range(history, history + args.steps):
        began = time.perf_counter()
        autoscaler.step(series.index[i], float(values[i]))
        times.append(time.perf_counter() - began)
    ms = np.array(times) * 1000
    fits = autoscaler.forecaster.fits
    slow = np.sort(ms)[-len(fits) :] if fits else np.array([])
    print(f"history {args.days:g} days of 1-minute data, {args.steps} control steps, one core")
    print(f"models fitted: {', '.join(f'{f.time:%m-%d %H:%M} {f.model}' for f in fits)}")
    print(f"median step      {statistics.median(ms):8.3f} ms")
    print(f"p90 / p99 step   {np.percentile(ms, 90):8.3f} / {np.percentile(ms, 99):.3f} ms")
    print(f"mean (amortised) {ms.mean():8.3f} ms   (goal: median <= 50 ms)")
    print(f"refit steps      {', '.join(f'{s:.0f}' for s in slow)} ms")
    print(f"steps without a refit: mean {np.sort(ms)[: len(ms) - len(fits)].mean():.3f} ms")
    print(f"1,000 services: {ms.mean() * 1000 / 1000:.1f} s of CPU per 60 s loop on one core")


if __name__ == "__main__":
    main()

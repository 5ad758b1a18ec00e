"""Time per control step of one service's predictive autoscaler, and what 1,000 of them cost.

Run: ``.venv/bin/python benchmarks/autoscaler_step.py [--days 16] [--steps 2880] [--selections 3]``

The autoscaler is given ``--days`` of 1-minute history (a real trace, NASA from 1995-07-03 by
default; 16 days is the operator's preload, enough for the weekly models), of which the last day
is replayed step by step as the operator does at start-up, then makes ``--steps`` control steps on
the minutes that follow. The first step selects and fits the seasonal model (rolling-origin
comparison of the candidates on 15-minute bins); it is refitted once a day and re-selected once a
week. Reported: the median, p99 and worst step, the refits, the start-up replay, and the time of
one selection round for 1,000 autoscalers on one core — ``--selections`` selections timed on
different days of the trace, their mean times 1,000 (the operator runs fits on one thread, so the
round is serial). Pinned to one core with one BLAS thread. Prints figures; asserts nothing.
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
from collections.abc import Callable  # noqa: E402
from concurrent.futures import Executor, Future  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from autoscaler.capacity import CapacitySettings  # noqa: E402
from autoscaler.controller import AutoscalerSettings, PredictiveAutoscaler  # noqa: E402
from autoscaler.series import read_trace  # noqa: E402

TRACE = Path(__file__).resolve().parents[2] / "shared" / "traces" / "nasa_http_1995_per_minute.csv"


class _Later(Executor):
    """Holds submitted fits until :meth:`run` (the operator's fit thread, made explicit)."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Future[Any], Callable[[], Any]]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self.jobs.append((future, lambda: fn(*args, **kwargs)))
        return future

    def run(self) -> float:
        began = time.perf_counter()
        for future, job in self.jobs:
            future.set_result(job())
        self.jobs.clear()
        return time.perf_counter() - began


def _selection_seconds(values: np.ndarray, index: pd.DatetimeIndex, history: int) -> float:
    """Time the first step of a fresh autoscaler: its model selection on ``history`` minutes."""
    mean = float(np.nanmean(values[:history]))
    autoscaler = PredictiveAutoscaler(
        AutoscalerSettings(capacity=CapacitySettings(pod_capacity=mean / 20))
    )
    autoscaler.preload(index[0], values[:history])
    began = time.perf_counter()
    autoscaler.step(index[history], float(values[history]))
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trace", type=Path, default=TRACE)
    parser.add_argument("--start", default="1995-07-03T09:00", help="first minute of history")
    parser.add_argument("--days", type=float, default=16.0, help="history before the first step")
    parser.add_argument("--steps", type=int, default=2880, help="control steps to time")
    parser.add_argument("--selections", type=int, default=3, help="selections timed (>= 1)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    series = read_trace(args.trace).loc[args.start :]
    history = int(args.days * 1440)
    need = history + args.steps + (max(1, args.selections) - 1) * 1440
    if len(series) < need:
        raise SystemExit(f"the trace has {len(series)} minutes after {args.start}; need {need}")
    values = series.to_numpy()
    index = pd.DatetimeIndex(series.index)
    mean = float(np.nanmean(values[: history + args.steps]))
    settings = AutoscalerSettings(capacity=CapacitySettings(pod_capacity=mean / 20))
    later = _Later()
    autoscaler = PredictiveAutoscaler(settings, executor=later)
    replay = 1440
    began = time.perf_counter()
    autoscaler.preload(index[0], values[:history], replay=replay)
    startup = time.perf_counter() - began
    first_fit = later.run()  # taken up by the first step
    autoscaler.forecaster.executor = None  # later refits inline, so that they are timed too
    times: list[float] = []
    for i in range(history, history + args.steps):
        began = time.perf_counter()
        autoscaler.step(index[i], float(values[i]))
        times.append(time.perf_counter() - began)
    ms = np.array(times) * 1000
    fits = autoscaler.forecaster.fits
    refits = len(fits) - 1  # the first was made on the fit thread
    slow = np.sort(ms)[-refits:] if refits > 0 else np.array([])
    plain = np.sort(ms)[: len(ms) - refits]
    selections = [
        _selection_seconds(values[k * 1440 :], index[k * 1440 :], history)
        for k in range(max(1, args.selections))
    ]
    round_s = statistics.mean(selections) * 1000
    print(f"history {args.days:g} days of 1-minute data, {args.steps} control steps, one core")
    print(f"models fitted: {', '.join(f'{f.time:%m-%d %H:%M} {f.model}' for f in fits)}")
    print(
        f"start-up: preload + replay of the last day ({replay} steps): {startup:.2f} s, "
        f"then the first selection on the fit thread: {first_fit:.2f} s"
    )
    print(f"median step      {statistics.median(ms):8.3f} ms")
    print(
        f"p99 / worst step {np.percentile(ms, 99):8.3f} / {ms.max():.0f} ms "
        "(the worst: a refit, which the operator runs on its fit thread)"
    )
    print(f"mean (amortised) {ms.mean():8.3f} ms   (goal: median <= 50 ms)")
    print(f"refit steps      {', '.join(f'{s:.0f}' for s in slow)} ms (the fit thread's work)")
    print(f"steps without a refit: mean {plain.mean():.3f} ms")
    print(f"1,000 services: {plain.mean():.1f} s of CPU per loop on one core without refits")
    print(
        f"one selection: {', '.join(f'{s:.2f}' for s in selections)} s; a selection round for "
        f"1,000 autoscalers on one core: {round_s / 60:.1f} min (fits run on their own thread: "
        "control steps go on meanwhile)"
    )
    print(f"start-up of 1,000 autoscalers (preload + replay): {startup * 1000 / 60:.1f} min of CPU")


if __name__ == "__main__":
    main()

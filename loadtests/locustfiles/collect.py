"""Gather what the verdict needs from a Locust run and write ``results.json`` at exit.

Samples for the latency plots are down-sampled (at most ``MAX_SAMPLES`` in all); the per-second
timeline (requests, failures and a latency histogram per entry and second) is complete. In
distributed mode workers ship both, with their CPU seconds, in every report to the master.
"""

from __future__ import annotations

import random
import resource
import time
from pathlib import Path
from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from loadtests.results import EntryStats, RunResults, TimelineCell, round_ms

MAX_SAMPLES = 20_000


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Collector:
    """Samples, CPU time and peak users of this process (and of the workers, on a master)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.started_at = time.time()
        self.cpu_start = _process_cpu()
        self.timeline: dict[tuple[int, str], TimelineCell] = {}
        self.pending_timeline: dict[tuple[int, str], TimelineCell] = {}
        self.pending: list[tuple[float, str, float]] = []
        self.samples: list[tuple[float, str, float]] = []
        self.seen = 0
        self.worker_cpu: dict[str, float] = {}
        self.peak_users = 0

    def cpu_seconds(self) -> float:
        """CPU seconds this process used since the test started."""
        return _process_cpu() - self.cpu_start

    def on_test_start(self, **_kwargs: Any) -> None:
        """Start the clocks when the test (not the process) starts."""
        self.started = time.monotonic()
        self.started_at = time.time()
        self.cpu_start = _process_cpu()

    def keep(self, sample: tuple[float, str, float]) -> None:
        """Reservoir sampling: every sample has the same chance to be plotted."""
        self.seen += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(sample)
        else:
            slot = random.randrange(self.seen)
            if slot < MAX_SAMPLES:
                self.samples[slot] = sample

    def on_request(
        self, name: str, response_time: float, exception: Any = None, **_kwargs: Any
    ) -> None:
        """Count one request in the timeline; queue a sample (sent to the master, or kept)."""
        elapsed = time.monotonic() - self.started
        cell = self.pending_timeline.setdefault((int(elapsed), name), TimelineCell())
        cell.add(round_ms(response_time), failed=exception is not None)
        if len(self.pending) < MAX_SAMPLES:
            self.pending.append((round(elapsed, 3), name, round(response_time, 2)))

    def _merge_timeline(self, cells: dict[tuple[int, str], TimelineCell]) -> None:
        for key, cell in cells.items():
            self.timeline.setdefault(key, TimelineCell()).merge(cell)

    def on_report_to_master(self, client_id: str, data: dict[str, Any]) -> None:
        """Worker side: ship the queued samples and the CPU seconds."""
        data["lco_samples"] = list(self.pending)
        data["lco_cpu"] = self.cpu_seconds()
        data["lco_timeline"] = [[s, n, c.to_json()] for (s, n), c in self.pending_timeline.items()]
        self.pending.clear()
        self.pending_timeline = {}

    def on_worker_report(self, client_id: str, data: dict[str, Any]) -> None:
        """Master side: keep a worker's samples and CPU seconds."""
        for sample in data.get("lco_samples", []):
            self.keep((float(sample[0]), str(sample[1]), float(sample[2])))
        shipped = data.get("lco_timeline", [])
        self._merge_timeline({(int(s), str(n)): TimelineCell.from_json(c) for s, n, c in shipped})
        if "lco_cpu" in data:
            self.worker_cpu[client_id] = float(data["lco_cpu"])

    def note_users(self, count: int) -> None:
        """Remember the peak user count (called by the shape)."""
        self.peak_users = max(self.peak_users, count)

    def collect(self, environment: Environment) -> RunResults:
        """The run's results from Locust's statistics and the gathered samples."""
        for sample in self.pending:
            self.keep(sample)
        self.pending.clear()
        self._merge_timeline(self.pending_timeline)
        self.pending_timeline = {}
        entries: dict[str, EntryStats] = {}
        for (name, _method), stats in environment.stats.entries.items():
            before = entries.get(name, EntryStats(0, 0, {}))
            times = dict(before.response_times)
            for ms, count in stats.response_times.items():
                times[int(ms)] = times.get(int(ms), 0) + int(count)
            entries[name] = EntryStats(
                requests=before.requests + stats.num_requests,
                failures=before.failures + stats.num_failures,
                response_times=times,
                errors=dict(before.errors),
            )
        for error in environment.stats.errors.values():
            if error.name in entries:
                entries[error.name].errors[str(error.error)[:200]] = error.occurrences
        runner = environment.runner
        distributed = isinstance(runner, MasterRunner)
        warned = runner is not None and (
            runner.cpu_warning_emitted or runner.worker_cpu_warning_emitted
        )
        return RunResults(
            host=environment.host or "",
            entries=entries,
            samples=sorted(self.samples),
            wall_s=time.monotonic() - self.started,
            cpu_s=sum(self.worker_cpu.values()) if distributed else self.cpu_seconds(),
            cpu_warning=bool(warned),
            peak_users=self.peak_users,
            started_at=self.started_at,
            timeline=[(s, n, c) for (s, n), c in sorted(self.timeline.items())],
        )

    def write(self, environment: Environment, path: Path) -> RunResults | None:
        """Write ``results.json`` unless this process is a worker (the master writes it)."""
        if isinstance(environment.runner, WorkerRunner):
            return None
        results = self.collect(environment)
        results.write(path)
        return results


COLLECTOR = Collector()
"""This process's collector, subscribed to Locust's events on import."""

_hooks: Any = events  # locust types its event hooks loosely
_hooks.test_start.add_listener(COLLECTOR.on_test_start)
_hooks.request.add_listener(COLLECTOR.on_request)
_hooks.report_to_master.add_listener(COLLECTOR.on_report_to_master)
_hooks.worker_report.add_listener(COLLECTOR.on_worker_report)

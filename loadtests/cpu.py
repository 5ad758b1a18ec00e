"""CPU use of the load generator, of the service and of the machine, read from ``/proc``.

On one machine the generator and the service share the cores, so a capacity figure means little
without both: :class:`Sampler` reads the cumulative CPU seconds of the processes it watches (and
the machine's) about twice a second in a thread, and :meth:`Sampler.use` gives the rates over any
stretch of the run. :class:`CpuSeries` is the arithmetic, also used inside the Locust process.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from .capacity import CpuUse

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
"""Clock ticks per second, the unit of ``/proc/<pid>/stat`` and ``/proc/stat`` (proc(5))."""

GENERATOR = "generator"
"""The watched group of load-generator processes."""

SERVICE = "service"
"""The watched group of the service's processes."""


def process_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) ``pid`` has used, or None when it is gone. Fields 14 and 15 of
    ``/proc/<pid>/stat`` (proc(5)); the command name may hold spaces, so count after its ``)``."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_cpu_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of every core since boot, from the ``cpu`` line of
    ``/proc/stat``: user nice system idle iowait irq softirq steal (guest time is already in
    user and nice); idle and iowait are not busy."""
    line = Path("/proc/stat").read_text().splitlines()[0]
    ticks = [int(x) for x in line.split()[1:9]]
    total = sum(ticks)
    return (total - ticks[3] - ticks[4]) / CLOCK_TICKS, total / CLOCK_TICKS


def process_name(pid: int) -> str:
    """A short label for ``pid`` from its command line: for Python the module of ``-m`` or the
    script, else the program's file name; with its ``--name`` (``librechat_sim.app r1``,
    ``litellm``, ``redis-server``)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return str(pid)
    argv = [a for a in argv if a]
    if not argv:
        return str(pid)
    label = Path(argv[0].split(" ")[0]).name  # redis-server rewrites its title: "name addr"
    if label.startswith("python") and "-c" not in argv:
        script = next((a for a in argv[1:] if not a.startswith("-")), "")
        label = argv[argv.index("-m") + 1] if "-m" in argv[:-1] else Path(script).name or label
    if "--name" in argv[:-1]:
        label += " " + argv[argv.index("--name") + 1]
    return label


def descendants(pids: Iterable[int]) -> set[int]:
    """``pids`` and every process below them (parent pid: field 4 of ``/proc/<pid>/stat``)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(parents.get(pid, []))
    return found


@dataclass
class CpuSeries:
    """Cumulative CPU seconds per key (a process, or the machine's busy and total), sampled over
    time; the rate of a key between any two times of the series, interpolated linearly."""

    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    """(time, cumulative seconds per key), in time order."""

    def add(self, at: float, values: Mapping[str, float]) -> None:
        """Record the cumulative values at time ``at``."""
        self.samples.append((at, dict(values)))

    def value(self, key: str, at: float) -> float | None:
        """``key``'s cumulative value at ``at``, or None outside the samples that have it."""
        points = [(t, v[key]) for t, v in self.samples if key in v]
        for (t0, v0), (t1, v1) in itertools.pairwise(points):
            if t0 <= at <= t1:
                return v0 if t1 == t0 else v0 + (v1 - v0) * (at - t0) / (t1 - t0)
        return None

    def rate(self, key: str, start: float, end: float) -> float | None:
        """``key``'s seconds per second between ``start`` and ``end`` (None: not covered)."""
        first, last = self.value(key, start), self.value(key, end)
        if first is None or last is None or end <= start:
            return None
        return max(0.0, (last - first) / (end - start))

    def names(self) -> set[str]:
        """Every key seen."""
        return {k for _t, values in self.samples for k in values}


def use(
    series: CpuSeries, start: float, end: float, labels: Mapping[str, str] | None = None
) -> CpuUse:
    """CPU between ``start`` and ``end`` from a series whose keys are ``generator:<pid>``,
    ``service:<pid>``, ``machine:busy`` and ``machine:total``; ``labels`` names the keys of the
    service's processes (their pid otherwise)."""

    def rates(group: str) -> dict[str, float]:
        found = {k: series.rate(k, start, end) for k in series.names() if k.startswith(group + ":")}
        return {k: r for k, r in found.items() if r is not None}

    generator, service = rates(GENERATOR), rates(SERVICE)
    by_process: dict[str, float] = {}
    for key, rate in sorted(service.items()):
        label = (labels or {}).get(key, key.partition(":")[2])
        by_process[label] = round(by_process.get(label, 0.0) + rate, 4)
    busy, total = series.rate("machine:busy", start, end), series.rate("machine:total", start, end)
    return CpuUse(
        generator_share=max(generator.values()) if generator else None,
        generator_cores=sum(generator.values()) if generator else None,
        service_cores=sum(service.values()) if service else None,
        machine_share=busy / total if busy is not None and total else None,
        service_processes=by_process,
    )


class Sampler:
    """Samples the watched processes and the machine in a thread while it is entered."""

    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self.series = CpuSeries()
        self._groups: dict[str, set[int]] = {}
        self._last: dict[str, float] = {}
        self._labels: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cpu-sampler", daemon=True)

    def watch(self, group: str, pids: Collection[int]) -> None:
        """Add ``pids`` to ``group`` (``generator`` or ``service``) and sample at once."""
        with self._lock:
            self._groups.setdefault(group, set()).update(pids)
            for pid in pids:
                self._labels.setdefault(f"{group}:{pid}", process_name(pid))
        self.sample()

    def sample(self) -> None:
        """Record one sample now. A process that ended keeps its last value (so a group's sum
        never drops)."""
        with self._lock:
            for group, pids in self._groups.items():
                for pid in pids:
                    seconds = process_cpu_s(pid)
                    if seconds is not None:
                        self._last[f"{group}:{pid}"] = seconds
            busy, total = machine_cpu_s()
            self.series.add(
                time.time(), self._last | {"machine:busy": busy, "machine:total": total}
            )

    def use(self, start: float, end: float) -> CpuUse:
        """CPU between the wall-clock times ``start`` and ``end`` (epoch seconds)."""
        with self._lock:
            return use(self.series, start, end, self._labels)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def __enter__(self) -> Sampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

"""``loadtest --find-capacity``: the step ramp against a target, every step judged, the knee.

Brings up the target as ``loadtest`` does and runs the capacity locustfile (the step ramp that
stops at the first breaking step) while :class:`~loadtests.cpu.Sampler` reads the CPU of Locust's
processes, of the service's (the simulator's, when it runs on this machine) and of the machine.
Each step the locustfile judges is handed on as it comes, with the CPU measured here; at the end
every complete step is judged again from the whole timeline, the knee found, and ``capacity.json``,
``capacity.png`` and ``capacity.html`` written.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType

from librechat_sim.config import SimConfig
from librechat_sim.description import load
from librechat_sim.errors import SimError
from librechat_sim.processes import alive
from slos.definition import DEFAULT_FILE, environment

from .capacity import Capacity, StepPlan, StepResult, complete_steps, find_knee, measure_step
from .capacity_report import write_capacity_report
from .cpu import GENERATOR, SERVICE, Sampler, descendants
from .preflight import check_login, check_target
from .runner import LoadtestSpec, first_credential, run_locust, target

CAPACITY_LOCUSTFILE = Path(__file__).parent / "locustfiles" / "capacity.py"
"""The step-ramp locustfile."""

PROGRESS_FILE = "capacity-progress.jsonl"
"""Where the locustfile appends each step it judged, in the report directory."""


@dataclass(frozen=True)
class CapacityOutcome:
    """What a capacity search produced."""

    capacity: Capacity
    """The knee (or why there is none)."""

    steps: tuple[StepResult, ...]
    """Every step that ran to its end, judged."""

    json_file: Path
    """``capacity.json``: the capacity, the plan and the per-step table."""

    plot_file: Path
    """``capacity.png``: P99 per journey against the request rate, generator CPU beside it."""

    report_file: Path
    """``capacity.html``: the finding, the plot and the table."""


class _Progress:
    """Follows the locustfile's progress file in a thread; hands each judged step over with the
    CPU the sampler measured over its judged seconds."""

    def __init__(
        self, path: Path, sampler: Sampler, on_step: Callable[[StepResult], None] | None
    ) -> None:
        self.path = path
        self.sampler = sampler
        self.on_step = on_step
        self.seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="capacity-progress", daemon=True)

    def read(self) -> None:
        """Hand over the complete lines not seen yet."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return
        for line in text.splitlines(keepends=True)[self.seen :]:
            if not line.endswith("\n"):
                return  # still being written
            self.seen += 1
            raw = json.loads(line)
            step = StepResult.from_dict(raw["step"])
            begins = float(raw["started_at"])
            cpu = self.sampler.use(begins + step.start_s, begins + step.end_s)
            if self.on_step is not None:
                self.on_step(replace(step, cpu=cpu))

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self.read()

    def __enter__(self) -> _Progress:
        self.path.unlink(missing_ok=True)
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
        if exc_type is None:
            self.read()


def _service_pids(spec: LoadtestSpec, started: tuple[int, ...], sim_state: Path | None) -> set[int]:
    """The service's processes: the simulator this run started, or a ``sim up`` simulator under
    ``sim_state`` whose URL is the target; none for any other target."""
    if started:
        return descendants(started)
    if sim_state is None or spec.target is None:
        return set()
    try:
        info = load(sim_state)
    except SimError:
        return set()
    if info.url.rstrip("/") != spec.target.rstrip("/"):
        return set()
    return descendants(c.pid for c in info.children if alive(c))


def find_capacity(
    spec: LoadtestSpec,
    plan: StepPlan,
    *,
    sim_state: Path | None = None,
    on_step: Callable[[StepResult], None] | None = None,
) -> CapacityOutcome:
    """Run the step ramp against the target of ``spec``; judge each step; find the knee.
    ``sim_state``: the state directory of a ``sim up`` simulator, whose CPU counts as the
    service's when ``spec.target`` is its URL; ``on_step`` sees each step as it is judged."""
    profile = environment(spec.profile, spec.profiles_file or DEFAULT_FILE)
    seed_password = spec.sim.seed_password if spec.sim else SimConfig.seed_password
    email, password = first_credential(spec, seed_password)
    spec.report_dir.mkdir(parents=True, exist_ok=True)
    progress_file = spec.report_dir / PROGRESS_FILE
    extra = [
        "--lco-step-users", str(plan.step_users),
        "--lco-step-duration", str(plan.step_duration_s),
        "--lco-max-steps", str(plan.max_steps),
        "--lco-time-limit", str(plan.time_limit_s),
        "--lco-progress", str(progress_file),
    ]  # fmt: skip
    ramp = replace(spec, duration_s=plan.total_s, warmup_s=plan.warmup_s)
    load_before = os.getloadavg()
    with target(spec) as (host, sim_pids), Sampler() as sampler:
        check_target(host)
        check_login(host, email, password)
        sampler.watch(SERVICE, _service_pids(spec, sim_pids, sim_state))
        with _Progress(progress_file, sampler, on_step):
            results, locust_exit_code = run_locust(
                ramp, host, seed_password, locustfile=CAPACITY_LOCUSTFILE, extra=extra,
                on_spawn=lambda pids: sampler.watch(GENERATOR, pids),
            )  # fmt: skip
    steps = []
    for k in complete_steps(results, plan):
        start, end = plan.window(k)
        cpu = sampler.use(results.started_at + start, results.started_at + end)
        steps.append(
            measure_step(results, plan, k, profile_name=spec.profile, profile=profile, cpu=cpu)
        )
    capacity = find_knee(steps)
    document = {
        "profile": spec.profile,
        "host": results.host,
        "capacity": capacity.to_dict(),
        "targets": {
            j: p99 for j, t in profile.journeys.items() if (p99 := t.threshold(0.99)) is not None
        },
        "plan": plan.to_dict(),
        "steps": [s.to_dict() for s in steps],
        "machine": {
            "cores": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "locust_exit_code": locust_exit_code,
    }
    json_file = spec.report_dir / "capacity.json"
    json_file.write_text(json.dumps(document, indent=2))
    plot_file, report_file = write_capacity_report(document, steps, spec.report_dir)
    return CapacityOutcome(capacity, tuple(steps), json_file, plot_file, report_file)

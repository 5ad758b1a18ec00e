"""The capacity locustfile: LibreChat's journeys under a step ramp that ends at the first step
breaking an SLO (or saturating the generator).

Run by ``librechat-ops loadtest --find-capacity`` as ``locust -f loadtests/locustfiles/capacity.py
--headless``. The journeys, the credentials and ``results.json`` come from :mod:`.librechat`; this
file adds the :class:`StepRamp` shape. A step is judged (:func:`loadtests.capacity.measure_step`,
the ``loadtest`` gate on the step's seconds after its warm-up) a moment after it ends, so the
next step's warm-up is all a breaking step costs. Each judged step is appended to
``--lco-progress`` as one JSON line with the run's start time; the command line prints it.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from locust import LoadTestShape, events
from locust.env import Environment
from locust.runners import MasterRunner

from loadtests.capacity import CpuUse, StepPlan, StepResult, measure_step
from loadtests.cpu import GENERATOR, CpuSeries, use
from loadtests.locustfiles import librechat
from loadtests.locustfiles.collect import COLLECTOR
from loadtests.locustfiles.journeys import LibreChatUser
from slos import definition as slo_file

__all__ = ["LibreChatUser", "StepRamp"]

LOCAL_LAG_S = 1.5
"""Seconds after a step's end before it is judged in one process: its last second's requests
are all counted by then."""

WORKER_LAG_S = 4.5
"""The same with workers, which report to the master every 3 s (``WORKER_REPORT_INTERVAL``)."""

log = logging.getLogger(__name__)


def _options(parser: Any) -> None:
    group = parser.add_argument_group("librechat-ops capacity")
    group.add_argument("--lco-step-users", type=int, default=4)
    group.add_argument("--lco-step-duration", type=float, default=60.0)
    group.add_argument("--lco-max-steps", type=int, default=10)
    group.add_argument("--lco-time-limit", type=float, default=1800.0)
    group.add_argument("--lco-progress", default="", help="append each judged step (JSON lines)")


def plan_of(options: Any) -> StepPlan:
    """The step plan from the command line's options."""
    return StepPlan(
        step_users=options.lco_step_users,
        step_duration_s=options.lco_step_duration,
        max_steps=options.lco_max_steps,
        warmup_s=options.lco_warmup,
        time_limit_s=options.lco_time_limit,
    )


class StepRamp(LoadTestShape):
    """``--lco-step-users`` more users every ``--lco-step-duration`` seconds; stops after the
    first step that breaks an SLO of ``--lco-profile`` or saturates the generator."""

    def __init__(self) -> None:
        base: Any = super()
        base.__init__()
        self.judged = 0
        self.held = 0
        self.stopped = False
        self.cpu = CpuSeries()
        self.profile: slo_file.Environment | None = None

    def _environment(self) -> Environment:
        shape: Any = self
        environment: Environment = shape.runner.environment
        return environment

    def _sample_cpu(self, environment: Environment) -> None:
        if isinstance(environment.runner, MasterRunner):
            values = {f"{GENERATOR}:{k}": v for k, v in COLLECTOR.worker_cpu.items()}
        else:
            values = {f"{GENERATOR}:self": COLLECTOR.cpu_seconds()}
        self.cpu.add(time.time(), values)

    def _judge(self, environment: Environment, plan: StepPlan, step: int) -> StepResult:
        options: Any = environment.parsed_options
        if self.profile is None:
            profiles = Path(options.lco_profiles) if options.lco_profiles else slo_file.DEFAULT_FILE
            self.profile = slo_file.environment(options.lco_profile, profiles)
        results = COLLECTOR.collect(environment)
        start, end = plan.window(step)
        cpu: CpuUse = use(self.cpu, results.started_at + start, results.started_at + end)
        result = measure_step(
            results, plan, step, profile_name=options.lco_profile, profile=self.profile, cpu=cpu
        )
        if options.lco_progress:
            with open(options.lco_progress, "a") as progress:
                line = {"started_at": results.started_at, "step": result.to_dict()}
                progress.write(json.dumps(line) + "\n")
        return result

    def tick(self) -> tuple[int, float] | None:
        """Users and spawn rate now; None once a step broke or the ramp is over."""
        environment = self._environment()
        plan = plan_of(environment.parsed_options)
        self._sample_cpu(environment)
        if self.stopped:
            return None
        shape: Any = self  # locust's LoadTestShape is untyped
        elapsed: float = shape.get_run_time()
        lag = WORKER_LAG_S if isinstance(environment.runner, MasterRunner) else LOCAL_LAG_S
        while self.judged < plan.steps and plan.window(self.judged + 1)[1] + lag <= elapsed:
            self.judged += 1
            result = self._judge(environment, plan, self.judged)
            self.held += result.held
            if not result.held:
                log.warning("step %d broke: %s", result.step, "; ".join(result.reasons))
                self.stopped = True
                return None
        step = plan.tick(elapsed)
        if step is None:
            # Past the last step: wait until it is judged too (its record is the progress line).
            if self.judged < plan.steps:
                return plan.users(plan.steps), 1.0
            return None
        COLLECTOR.note_users(shape.get_current_user_count())
        return step


def _exit_code(environment: Environment, **_kwargs: Any) -> None:
    """After :mod:`.librechat`'s gate (registered first): 0 when a step held, so the run has a
    capacity figure; 1 when the first step already broke."""
    shape = environment.shape_class
    if isinstance(shape, StepRamp):
        environment.process_exit_code = 0 if shape.held else 1


_hooks: Any = events  # locust types its event hooks loosely
_ = librechat  # imported first: its listeners read the credentials and write results.json
_hooks.init_command_line_parser.add_listener(_options)
_hooks.quitting.add_listener(_exit_code)

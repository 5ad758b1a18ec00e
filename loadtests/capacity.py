"""The capacity search: a step ramp of users, every SLO judged per step, the knee found.

Pure arithmetic on a run's results, shared by the locustfile's :class:`StepRamp` shape (which stops
the run at the first step that breaks) and the command line (which judges every step again from the
complete timeline for the report). Each step is judged by :func:`loadtests.slo.judge`, the same
gate as ``loadtest``, on the step's seconds after its warm-up. The knee is the last step with every
SLO held and the generator below saturation; its request rate and its chats in flight are the
capacity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from slos.definition import Environment

from .common.names import CHAT_COMPLETE, CHAT_TTFT
from .results import RunResults
from .shapes import SMOKE_ARRIVAL_S, Step
from .slo import CPU_BOUND_SHARE, judge

DERIVED_ENTRIES = frozenset({CHAT_TTFT, CHAT_COMPLETE})
"""Entries that time an SSE stream the journeys already counted as a request (``chat: stream
open``): left out of the request rate."""

GENERATOR = "generator"
"""``limited_by`` when the load generator saturated its CPU before any SLO broke."""

MAX_STEPS = "max_steps"
"""``limited_by`` when every step held: the capacity is at least the last step's."""

MIN_P99_REQUESTS = 100
"""Below this many requests a journey's P99 is its slowest request (the rank ``ceil(0.99 n)`` is
``n``): one stray request decides it. Such P99s are flagged, and a step they break says so."""


@dataclass(frozen=True)
class StepPlan:
    """The step ramp: ``step_users`` more users every ``step_duration_s``, at most ``max_steps``."""

    step_users: int
    """Users added at the start of each step (step k runs k * step_users)."""

    step_duration_s: float
    """How long each step holds its users."""

    max_steps: int
    """The ramp ends after this many steps even when every SLO holds."""

    warmup_s: float = 5.0
    """The first seconds of each step, when its new users log in, are not judged."""

    time_limit_s: float = 1800.0
    """The whole run stops by then: fewer steps than ``max_steps`` when they would not fit."""

    def __post_init__(self) -> None:
        if self.step_users < 1:
            raise ValueError("step_users must be at least 1")
        if self.max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        if self.warmup_s < 0:
            raise ValueError("warmup_s must not be negative")
        if self.steps < 1:
            raise ValueError(
                f"a {self.time_limit_s:g}s time limit holds no {self.step_duration_s:g}s step"
            )
        start, end = self.window(1)
        if end <= start:
            raise ValueError(
                f"a {self.warmup_s:g}s warm-up leaves nothing of a {self.step_duration_s:g}s "
                "step to judge (it needs at least one whole second)"
            )

    @property
    def steps(self) -> int:
        """The steps that run: ``max_steps``, or fewer when the time limit comes first."""
        return min(self.max_steps, int(self.time_limit_s // self.step_duration_s))

    @property
    def total_s(self) -> float:
        """Length of the whole ramp when no step breaks."""
        return self.steps * self.step_duration_s

    def users(self, step: int) -> int:
        """Users during ``step`` (1-based)."""
        return step * self.step_users

    def window(self, step: int) -> tuple[int, int]:
        """The whole seconds of the run's timeline judged for ``step`` (1-based): from the end of
        its warm-up to its end, ``[start, end)``."""
        begins = (step - 1) * self.step_duration_s
        return math.ceil(begins + self.warmup_s), math.floor(begins + self.step_duration_s)

    def tick(self, elapsed_s: float) -> Step:
        """``(users, spawn_rate)`` at ``elapsed_s`` into the run, or None when the ramp is over.
        A step's new users arrive over its warm-up (at most ``SMOKE_ARRIVAL_S``), so their logins
        do not all land in the same instant."""
        if elapsed_s >= self.total_s:
            return None
        step = int(elapsed_s // self.step_duration_s) + 1
        arrival = min(SMOKE_ARRIVAL_S, self.warmup_s)
        rate = self.step_users / arrival if arrival > 0 else float(self.step_users)
        return self.users(step), max(1.0, rate)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self) | {"steps": self.steps}


@dataclass(frozen=True)
class CpuUse:
    """CPU measured over one step's judged seconds (None: not measured)."""

    generator_share: float | None = None
    """The busiest generator process's CPU, as a share of one core (1.0 = saturated)."""

    generator_cores: float | None = None
    """Cores every generator process used together."""

    service_cores: float | None = None
    """Cores the service under test used (the simulator's processes; None for a remote target)."""

    machine_share: float | None = None
    """Share of all the machine's cores that were busy."""

    service_processes: dict[str, float] = field(default_factory=dict)
    """Cores per process of the service (``librechat_sim.app r1``, ``redis-server``...)."""


@dataclass(frozen=True)
class StepResult:
    """One step: its load, its throughput, its latencies and whether every SLO held."""

    step: int
    """1-based step number."""

    users: int
    """Simulated users during the step."""

    start_s: int
    """First second of the run judged (after the step's warm-up)."""

    end_s: int
    """The judged seconds end before this second."""

    requests: int
    """HTTP requests that finished in the judged seconds."""

    failures: int
    """Of which failed."""

    rps: float
    """Successful HTTP requests per second: the sustained request rate."""

    concurrent_chats: float
    """Chats in flight on average (send to the stream's ``final``), by Little's law: the summed
    time of the chats that ended in the judged seconds over the seconds."""

    p99_ms: dict[str, float | None]
    """P99 per SLO journey."""

    broken: tuple[str, ...]
    """The journeys whose SLO broke (empty when every SLO held)."""

    reasons: tuple[str, ...]
    """Why, as ``journey: reason``."""

    journey_requests: dict[str, int] = field(default_factory=dict)
    """Requests per SLO journey in the judged seconds."""

    cpu: CpuUse = field(default_factory=CpuUse)
    """CPU over the judged seconds."""

    @property
    def thin(self) -> tuple[str, ...]:
        """Journeys with a P99 from fewer than ``MIN_P99_REQUESTS`` requests (their slowest)."""
        return tuple(
            j
            for j, n in self.journey_requests.items()
            if 0 < n < MIN_P99_REQUESTS and self.p99_ms.get(j) is not None
        )

    @property
    def generator_bound(self) -> bool:
        """The busiest generator process was above ``CPU_BOUND_SHARE`` of a core."""
        share = self.cpu.generator_share
        return share is not None and share > CPU_BOUND_SHARE

    @property
    def held(self) -> bool:
        """Every SLO held and the generator was not saturated."""
        return not self.broken and not self.generator_bound

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self) | {
            "generator_bound": self.generator_bound,
            "held": self.held,
            "thin": list(self.thin),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> StepResult:
        """Read what :meth:`to_dict` wrote."""
        fields = {k: v for k, v in raw.items() if k not in {"generator_bound", "held", "thin"}}
        fields["broken"] = tuple(fields["broken"])
        fields["reasons"] = tuple(fields["reasons"])
        fields["cpu"] = CpuUse(**fields["cpu"])
        return cls(**fields)


def window(results: RunResults, start_s: int, end_s: int) -> RunResults:
    """The run's seconds ``[start_s, end_s)`` as results of their own (entries rebuilt from the
    timeline, wall time the window's length, no generator CPU: a step's is measured apart)."""
    cut = [(s, n, c) for s, n, c in results.timeline if s < end_s]
    kept = replace(results, timeline=cut, samples=[x for x in results.samples if x[0] < end_s])
    return replace(kept.after(start_s), wall_s=float(end_s - start_s), cpu_s=0.0, cpu_warning=False)


def in_flight(response_times: Mapping[int, int], seconds: float) -> float:
    """Average of what was in flight over ``seconds``, from the durations (ms -> count) of what
    ended in them (Little's law: L = lambda * W)."""
    if seconds <= 0:
        return 0.0
    return sum(ms * count for ms, count in response_times.items()) / 1000 / seconds


def measure_step(
    results: RunResults,
    plan: StepPlan,
    step: int,
    *,
    profile_name: str,
    profile: Environment,
    cpu: CpuUse | None = None,
) -> StepResult:
    """Step ``step`` of ``results`` judged against ``profile`` with :func:`loadtests.slo.judge`."""
    start, end = plan.window(step)
    part = window(results, start, end)
    verdict = judge(part, profile_name, profile)
    http = [e for name, e in part.entries.items() if name not in DERIVED_ENTRIES]
    requests = sum(e.requests for e in http)
    failures = sum(e.failures for e in http)
    chats = part.entries.get(CHAT_COMPLETE)
    broken = tuple(j.journey for j in verdict.journeys if not j.passed)
    return StepResult(
        step=step,
        users=plan.users(step),
        start_s=start,
        end_s=end,
        requests=requests,
        failures=failures,
        rps=(requests - failures) / part.wall_s,
        concurrent_chats=in_flight(chats.response_times, part.wall_s) if chats else 0.0,
        p99_ms={j.journey: j.p99_ms for j in verdict.journeys},
        journey_requests={j.journey: j.requests for j in verdict.journeys},
        broken=broken,
        reasons=tuple(f"{j.journey}: {r}" for j in verdict.journeys for r in j.reasons),
        cpu=cpu or CpuUse(),
    )


def complete_steps(results: RunResults, plan: StepPlan) -> list[int]:
    """The steps whose judged seconds the run covered to their end."""
    return [k for k in range(1, plan.steps + 1) if plan.window(k)[1] <= results.wall_s]


@dataclass(frozen=True)
class Capacity:
    """The knee: the last step with every SLO held, and what broke after it."""

    rps: float | None
    """The knee's sustained request rate (None: the first step already broke)."""

    concurrent_chats: float | None
    """The knee's chats in flight."""

    users: int | None
    """The knee's simulated users."""

    step: int | None
    """The knee's step number."""

    limited_by: str
    """The SLO journeys that broke at the next step (joined by ``+``), ``generator`` when the
    load generator saturated first, or ``max_steps`` when every step held."""

    reasons: tuple[str, ...]
    """Why the next step failed."""

    message: str
    """The finding in one sentence."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def find_knee(steps: Sequence[StepResult]) -> Capacity:
    """The last step before the first one that breaks an SLO or saturates the generator."""
    knee: StepResult | None = None
    reasons: tuple[str, ...]
    for step in steps:
        if step.held:
            knee = step
            continue
        if step.generator_bound:
            share = step.cpu.generator_share or 0.0
            limited_by = GENERATOR
            reasons = (f"generator: its busiest process used {share:.0%} of a core",)
            why = (
                f"the load generator saturated its CPU at step {step.step} ({step.users} users, "
                f"{share:.0%} of a core): this is the generator's limit, not the service's "
                "(add --workers, or run the generator on another machine)"
            )
        else:
            limited_by = "+".join(step.broken)
            reasons = step.reasons
            why = f"step {step.step} ({step.users} users) broke {', '.join(step.broken)}"
            thin = [j for j in step.broken if j in step.thin]
            if thin:
                counts = ", ".join(f"{j} {step.journey_requests[j]}" for j in thin)
                why += (
                    f" (a P99 from fewer than {MIN_P99_REQUESTS} requests is their slowest: "
                    f"{counts}; a longer --step-duration judges more)"
                )
        if knee is None:
            return Capacity(
                None, None, None, None, limited_by, reasons,
                f"the first step already fails: {why}; try fewer --step-users",
            )  # fmt: skip
        return _capacity(knee, limited_by, reasons, f"{_figure(knee)}; {why}")
    if knee is None:
        return Capacity(None, None, None, None, MAX_STEPS, (), "no step ran to its end")
    return _capacity(
        knee,
        MAX_STEPS,
        (),
        f"at least {_figure(knee)}: every step held; raise --max-steps or --step-users "
        "to find the knee",
    )


def _figure(step: StepResult) -> str:
    return (
        f"{step.rps:.1f} req/s with {step.concurrent_chats:.1f} chats in flight "
        f"({step.users} users, step {step.step})"
    )


def _capacity(
    knee: StepResult, limited_by: str, reasons: tuple[str, ...], message: str
) -> Capacity:
    return Capacity(
        rps=round(knee.rps, 1),
        concurrent_chats=round(knee.concurrent_chats, 2),
        users=knee.users,
        step=knee.step,
        limited_by=limited_by,
        reasons=reasons,
        message=message,
    )

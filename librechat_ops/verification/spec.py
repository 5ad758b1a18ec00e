"""What one verification runs: the environment, the load, the faults and when, the limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from librechat_sim.config import GatewayConfig
from loadtests.shapes import WARMUP_S, parse_duration

from .errors import VerifyError

LAPTOP_FAULTS = (
    "replica-kill-mid-stream",
    "redis-outage",
    "llm-latency",
    "region-failover-local",
)
"""The faults ``--env laptop`` injects by default: the ones the simulator carries."""

SHORTENED = {
    "LIBRECHAT_CHAOS_OUTAGE_S": "3",
    "LIBRECHAT_CHAOS_REGION_DOWN_S": "5",
    "LLM_LATENCY_MS": "3000",
    "LLM_JITTER_MS": "200",
}
"""Experiment settings a verification uses unless the environment sets them: faults short
enough that several fit in one run. The LLM latency (at least 2.8 s before the first byte) exceeds
the AI gateway's 2 s stream timeout for its primary deployment (``librechat:gateway`` in
``stacks/Pulumi.production.yaml``), so LiteLLM's own timeout and fallback act; the experiment
holds it for its default 30 s (``LLM_LATENCY_FOR_S``), long enough to show in the time-to-first-
token curve."""


@dataclass(frozen=True)
class FaultPlan:
    """One experiment and when to start it."""

    experiment: str
    """Its name in ``chaos/experiments`` (without ``.json``)."""

    at_s: float
    """Seconds into the load run (a fault starts no earlier than the previous one ended)."""


@dataclass(frozen=True)
class VerifySpec:
    """Everything one verification needs."""

    report_dir: Path
    """Where the scorecard, its plots and every journal go."""

    state_dir: Path
    """Where the run's own simulator keeps its files (the experiments find it there)."""

    faults: tuple[FaultPlan, ...]
    """The faults, in order."""

    env: str = "laptop"
    """The environment (only ``laptop``: the simulator on this machine)."""

    profile: str = "laptop"
    """The SLO environment judged against (``slos/slos.yaml``)."""

    profiles_file: Path | None = None
    """Your copy of the SLO file."""

    users: int = 30
    """Simulated users: enough that 20 chats start in each fault's window."""

    duration_s: float = 120.0
    """Load duration."""

    replicas: int = 4
    """API replicas of the simulator."""

    regions: int = 2
    """Simulated regions (the local region failover needs 2)."""

    redis_persistence: bool = True
    """Redis keeps an fsynced append-only file (False: the deliberately broken system)."""

    toxiproxy: str = ""
    """``toxiproxy-server``; empty: no fault proxy (network faults cannot run)."""

    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    """The simulator's AI gateway (LiteLLM with the production configuration); no program: the
    replicas call the mock LLM directly."""

    max_budget_pct: float = 0.5
    """Most of the SLO window's error budget one fault may burn, in percent."""

    max_recovery_s: float = 30.0
    """Longest time from a fault to errors back within the budget."""

    warmup_s: float = WARMUP_S
    """Seconds at the start left out of the steady-state SLOs: every user logs in at once."""

    experiment_env: dict[str, str] = field(default_factory=dict)
    """Extra environment for ``chaos run`` (the experiments' configuration)."""


def parse_faults(
    values: list[str], duration_s: float, known: list[str], runnable: list[str]
) -> tuple[FaultPlan, ...]:
    """``NAME`` or ``NAME@WHEN`` (``30s``, ``1m``) per fault; without ``@``, the faults are spread
    evenly over the run. A name not in ``known`` or not ``runnable`` here is an error that lists
    the runnable ones."""
    plans: list[FaultPlan] = []
    choices = "one of: " + ", ".join(sorted(runnable))
    for index, value in enumerate(values):
        name, _, when = value.partition("@")
        if name not in known:
            raise VerifyError(f"no experiment named {name!r}", hint=choices)
        if name not in runnable:
            raise VerifyError(
                f"{name} runs against a cluster or AWS, not the simulator verify starts",
                hint=f"run it with `chaos run` or a ChaosSchedule there; here, {choices}",
            )
        if when:
            try:
                at = parse_duration(when)
            except ValueError as exc:
                raise VerifyError(f"--fault {value}: {exc}") from None
        else:
            at = duration_s * (index + 1) / (len(values) + 1)
        if at >= duration_s:
            raise VerifyError(
                f"--fault {value}: starts at {at:g}s, after the {duration_s:g}s run ends",
                hint="start it earlier or run longer (--duration)",
            )
        plans.append(FaultPlan(name, at))
    return tuple(plans)

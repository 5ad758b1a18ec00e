"""Replaying each policy over a prepared window: HPA, the predictive policy and the oracle.

What belongs here: one function per policy and :class:`PolicyRun`. One control step per
interval: at step t a policy knows the demand of intervals before t only (the oracle excepted,
by definition), asks for replicas, and new pods serve from t + lead, lead = ceil(start-up /
interval). Every policy starts with the pods the interval before the window needed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .calibrate import BudgetKeeper
from .capacity import ScaleDownWindow, decide, pods_for, was_short
from .hpa import HPAModel, HPASettings
from .prepare import Prepared, capacity_settings
from .scoring import PolicyScore, score_policy
from .simulate import PodPool, Supply, oracle_schedule


@dataclass(frozen=True)
class PolicyRun:
    """One policy's supply and scores."""

    supply: Supply
    """Replicas and ready pods per step."""
    score: PolicyScore
    """Its figures."""


def replay_predictive(prepared: Prepared, budget: float) -> tuple[PolicyRun, Counter[str]]:
    """The predictive policy's decisions for one shortfall budget."""
    capacity = capacity_settings(prepared.settings, prepared.pod_capacity, prepared.step, budget)
    values = prepared.series.to_numpy()
    pool = PodPool(_initial(values, prepared, capacity.pod_capacity), lead=prepared.lead, now=0)
    window = ScaleDownWindow(capacity.scale_down_window)
    keeper = BudgetKeeper(budget, prepared.settings.budget)
    reasons: Counter[str] = Counter()
    replicas: list[int] = []
    ready: list[int] = []
    actions = 0
    for i, seen in enumerate(prepared.inputs):
        if i:
            short = was_short(
                seen.observation, seen.bad_data, ready=ready[-1], pod_capacity=capacity.pod_capacity
            )
            if short is not None:
                keeper.record(short)
        decision = decide(
            capacity,
            band=seen.band,
            observation=seen.observation,
            bad_data=seen.bad_data,
            current=pool.count,
            window=window,
            level=keeper.level,
        )
        reasons[decision.reason.value] += 1
        actions += decision.replicas != pool.count
        pool.scale(i, decision.replicas)
        replicas.append(pool.count)
        ready.append(pool.ready(i))
    return _run(prepared, replicas, ready, actions), reasons


def replay_hpa(prepared: Prepared, hpa: HPASettings) -> PolicyRun:
    """Kubernetes' HPA on the same demand."""
    values = prepared.series.to_numpy()
    bounded = replace(
        hpa,
        min_replicas=prepared.settings.min_replicas,
        max_replicas=prepared.settings.max_replicas,
    )
    model = HPAModel(bounded, pod_capacity=prepared.pod_capacity, step=prepared.step)
    initial = _initial(values, prepared, prepared.pod_capacity * hpa.target)
    pool = PodPool(initial, lead=prepared.lead, now=0)
    times = pd.DatetimeIndex(prepared.series.index)
    replicas, ready, actions = [], [], 0
    for i in range(prepared.last - prepared.first):
        t = prepared.first + i
        observed = float(values[t - 1])
        desired = model.step(times[t], observed, ready=pool.ready(i - 1), current=pool.count)
        actions += desired != pool.count
        pool.scale(i, desired)
        replicas.append(pool.count)
        ready.append(pool.ready(i))
    return _run(prepared, replicas, ready, actions)


def replay_oracle(prepared: Prepared) -> PolicyRun:
    """Pods started exactly one start-up delay before they are needed."""
    values = prepared.series.to_numpy()
    settings, lead = prepared.settings, prepared.lead
    ahead = values[prepared.first : min(prepared.last + lead, len(values))]
    need = np.array([pods_for(v, prepared.pod_capacity) if np.isfinite(v) else 0 for v in ahead])
    low, high = settings.min_replicas, settings.max_replicas
    schedule = oracle_schedule(need, lead=lead, low=low, high=high)
    pool = PodPool(int(np.clip(need[0], low, high)), lead=lead, now=0)
    replicas, ready, actions = [], [], 0
    for i in range(prepared.last - prepared.first):
        desired = int(schedule[i])
        actions += desired != pool.count
        pool.scale(i, desired)
        replicas.append(pool.count)
        ready.append(pool.ready(i))
    return _run(prepared, replicas, ready, actions)


def _run(prepared: Prepared, replicas: list[int], ready: list[int], actions: int) -> PolicyRun:
    supply = Supply(np.array(replicas), np.array(ready), actions)
    score = score_policy(
        prepared.demand,
        replicas=supply.replicas,
        ready=supply.ready,
        actions=actions,
        pod_capacity=prepared.pod_capacity,
        step_hours=prepared.step / pd.Timedelta("1h"),
    )
    return PolicyRun(supply, score)


def _initial(values: np.ndarray, prepared: Prepared, per_pod: float) -> int:
    before = values[prepared.first - 1]
    pods = pods_for(float(before), per_pod) if np.isfinite(before) else 1
    return min(max(pods, prepared.settings.min_replicas), prepared.settings.max_replicas)

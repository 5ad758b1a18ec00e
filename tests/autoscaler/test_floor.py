"""The shortfall floor: the least any policy, even one that knows the future, pays within a
shortfall allowance — exact (checked against every choice of short steps), the oracle's cost at
no allowance, and below every policy of a backtest that keeps the allowance."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from autoscaler.backtest import SHORTFALL_SLACK, BacktestSettings, prepare, run_backtest
from autoscaler.report import verdict
from autoscaler.simulate import FLOOR_MAX_LEAD, oracle_schedule, shortfall_floor


def _brute_force(need: np.ndarray, n: int, lead: int, low: int, high: int, allowed: int) -> float:
    """Every set of at most ``allowed`` short steps; pods at s cover every step of [s, s + lead]
    in the window that is not short."""
    forced = {t for t in range(n) if need[t] > high}
    best = math.inf
    for k in range(allowed + 1):
        for short in itertools.combinations(range(n), k):
            if not forced <= set(short):
                continue
            total = 0.0
            for s in range(n):
                window = range(s, min(n, s + lead + 1))
                kept = [min(need[t], high) for t in window if t not in short]
                total += max([low, *kept])
            best = min(best, total)
    return best


def test_the_floor_is_the_least_over_every_choice_of_short_steps() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        n, lead = int(rng.integers(1, 9)), int(rng.integers(0, FLOOR_MAX_LEAD))
        low, high, allowed = int(rng.integers(0, 3)), int(rng.integers(4, 12)), int(rng.integers(4))
        need = rng.integers(0, 12, size=n + lead).astype(float)
        floor = shortfall_floor(need, judged=n, lead=lead, low=low, high=high, allowed=allowed)
        assert floor == _brute_force(need, n, lead, low, high, allowed), (need, lead, allowed)


def test_without_allowance_the_floor_is_what_the_oracle_pays() -> None:
    rng = np.random.default_rng(3)
    need = rng.poisson(20, size=500).astype(float)
    for lead in range(FLOOR_MAX_LEAD + 1):
        # nothing is required after the window, as in the floor
        padded = np.concatenate([need, np.zeros(lead)])
        oracle = oracle_schedule(padded, lead=lead, low=1, high=1000)[: len(need)]
        floor = shortfall_floor(need, judged=len(need), lead=lead, low=1, high=1000, allowed=0)
        assert floor == oracle.sum()
        cheaper = shortfall_floor(need, judged=len(need), lead=lead, low=1, high=1000, allowed=5)
        assert cheaper is not None
        assert cheaper < oracle.sum()


def test_needs_above_the_maximum_use_the_allowance_or_make_it_impossible() -> None:
    need = np.array([1.0, 9.0, 1.0, 9.0, 1.0])
    kept = shortfall_floor(need, judged=5, lead=1, low=0, high=5, allowed=2)
    assert kept == _brute_force(need, 5, 1, 0, 5, 2)
    assert shortfall_floor(need, judged=5, lead=1, low=0, high=5, allowed=1) == math.inf
    long_start = FLOOR_MAX_LEAD + 1
    assert shortfall_floor(need, judged=5, lead=long_start, low=0, high=5, allowed=2) is None


@pytest.mark.parametrize("budget", [0.01, 0.05])
def test_no_policy_of_a_backtest_that_keeps_the_allowance_pays_less(
    daily_trace: pd.Series, budget: float
) -> None:
    start = daily_trace.index[0] + pd.Timedelta("1h")
    prepared = prepare(daily_trace, BacktestSettings(), start=start, end=start + pd.Timedelta("6h"))
    result = run_backtest(prepared, budget=budget)
    assert result.floor_pod_hours is not None
    runs = [*result.policies.values(), *result.hpa_sweep.values()]
    kept = [r for r in runs if r.score.under_provisioned_pct <= 100 * SHORTFALL_SLACK * budget]
    assert kept  # the oracle at least
    for run in kept:
        assert run.score.pod_hours >= result.floor_pod_hours - 1e-9
    assert result.floor_pod_hours <= result.policies["oracle"].score.pod_hours
    check = verdict(result)
    best = result.policies["hpa_best"].score.pod_hours
    assert check.floor_vs_hpa_best == pytest.approx(result.floor_pod_hours / best)
    assert check.reachable == (result.floor_pod_hours <= 0.8 * best)

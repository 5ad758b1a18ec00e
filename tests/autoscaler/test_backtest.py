"""The backtest: no peeking, a physical-limit oracle, the JSON keys, and clear window errors."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from autoscaler.backtest import (
    HPA_BEST_TARGETS,
    BacktestSettings,
    autoscaler_settings,
    prepare,
    replay_predictive,
    run_backtest,
)
from autoscaler.controller import PredictiveAutoscaler
from autoscaler.errors import WindowError
from autoscaler.report import frontier, to_json, verdict

SETTINGS = BacktestSettings()


def _window(series: pd.Series, hours: float) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = series.index[0] + pd.Timedelta("1h")
    return start, start + pd.Timedelta(hours=hours)


def test_decisions_never_depend_on_the_future(daily_trace: pd.Series) -> None:
    start, end = _window(daily_trace, 3)
    cut = 90  # change everything from interval 90 of the window on
    changed = daily_trace.copy()
    changed.loc[start + pd.Timedelta(minutes=cut) :] *= 5
    # a fixed pod capacity: the default one is derived from the whole window's mean demand
    fixed = replace(SETTINGS, pod_capacity=20.0)
    runs = [
        replay_predictive(prepare(s, fixed, start=start, end=end), 0.01)[0]
        for s in (daily_trace, changed)
    ]
    a, b = (run.supply.replicas for run in runs)
    # the decision at step t sees intervals before t only
    np.testing.assert_array_equal(a[: cut + 1], b[: cut + 1])
    assert not np.array_equal(a, b)


def test_oracle_is_never_short_and_cheapest_among_policies_that_are_not_short(
    daily_trace: pd.Series,
) -> None:
    start, end = _window(daily_trace, 6)
    result = run_backtest(prepare(daily_trace, SETTINGS, start=start, end=end))
    oracle = result.policies["oracle"]
    assert oracle.score.under_provisioned_pct == 0.0
    assert oracle.score.theta_u == 0.0
    need = np.ceil(result.demand / result.pod_capacity - 1e-9)
    assert (oracle.supply.ready >= need).all()
    for name in ("hpa", "hpa_best", "predictive"):
        assert result.policies[name].score.pod_hours >= oracle.score.pod_hours


def test_per_pod_capacity_makes_mean_demand_twenty_pods(daily_trace: pd.Series) -> None:
    start, end = _window(daily_trace, 2)
    prepared = prepare(daily_trace, SETTINGS, start=start, end=end)
    assert prepared.pod_capacity == pytest.approx(float(np.mean(prepared.demand)) / 20)
    fixed = prepare(daily_trace, replace(SETTINGS, pod_capacity=7.0), start=start, end=end)
    assert fixed.pod_capacity == 7.0


def test_json_has_exactly_the_documented_keys(daily_trace: pd.Series) -> None:
    start, end = _window(daily_trace, 2)
    prepared = prepare(daily_trace, SETTINGS, start=start, end=end)
    result = run_backtest(prepared, budget=0.001)
    document = to_json(result, source="test", points=frontier(prepared, result))
    assert document["budget"] == 0.001
    assert set(document["policies"]) == {"hpa", "hpa_best", "predictive", "oracle"}
    scores = {"pod_hours", "under_provisioned_pct", "theta_u", "theta_o", "scaling_actions"}
    for name, figures in document["policies"].items():
        extra = {"hpa": {"target"}, "hpa_best": {"target", "within_budget"}}.get(name, set())
        assert set(figures) == scores | extra
    assert document["policies"]["hpa_best"]["target"] in HPA_BEST_TARGETS
    forecast = document["forecast"]
    assert {"mase", "relative_mae", "smape", "peak_vs_persistence"} <= set(forecast)
    assert forecast["mase"] > 0
    assert forecast["peak_points"] > 0
    assert {p["policy"] for p in document["frontier"]} == {"hpa", "predictive"}
    assert document["goal"]["budget"] == 0.001
    assert set(document["anomalies"]) == {"surge", "drop"}


def test_hpa_best_is_the_cheapest_target_within_the_budget(daily_trace: pd.Series) -> None:
    start, end = _window(daily_trace, 6)
    prepared = prepare(daily_trace, SETTINGS, start=start, end=end)
    for budget in (0.001, 0.05):
        result = run_backtest(prepared, budget=budget)
        within = {
            t: run.score.pod_hours
            for t, run in result.hpa_sweep.items()
            if run.score.under_provisioned_pct <= 100 * budget
        }
        assert result.hpa_best_within == bool(within)
        if within:
            assert result.hpa_best_target == min(within, key=within.__getitem__)
        best = result.policies["hpa_best"].score
        assert best == result.hpa_sweep[result.hpa_best_target].score
    assert set(result.hpa_sweep) == set(HPA_BEST_TARGETS)
    assert HPA_BEST_TARGETS[0] == 0.30
    assert HPA_BEST_TARGETS[-1] == 0.95


def test_a_larger_budget_costs_less_and_falls_short_more(daily_trace: pd.Series) -> None:
    start, end = _window(daily_trace, 40)
    prepared = prepare(daily_trace, SETTINGS, start=start, end=end)
    tight, loose = (replay_predictive(prepared, b)[0].score for b in (0.002, 0.05))
    assert tight.pod_hours > loose.pod_hours
    assert tight.under_provisioned_pct < loose.under_provisioned_pct


def test_the_budget_is_kept_on_poisson_demand(daily_trace: pd.Series) -> None:
    """On 40 hours of Poisson demand (2,400 intervals) the realised shortfall tracks the budget."""
    start, end = _window(daily_trace, 40)
    prepared = prepare(daily_trace, SETTINGS, start=start, end=end)
    for budget in (0.01, 0.05):
        realised = replay_predictive(prepared, budget)[0].score.under_provisioned_pct / 100
        assert 0.3 * budget <= realised <= 1.2 * budget, (budget, realised)


def test_frontier_trades_cost_for_shortfall(daily_trace: pd.Series) -> None:
    start, end = _window(daily_trace, 4)
    prepared = prepare(daily_trace, SETTINGS, start=start, end=end)
    points = frontier(prepared, run_backtest(prepared))
    for policy in ("hpa", "predictive"):
        mine = sorted((p for p in points if p.policy == policy), key=lambda p: p.pod_hours)
        assert mine[0].under_provisioned_pct >= mine[-1].under_provisioned_pct


def test_verdict_compares_with_hpa_best_and_the_oracle(daily_trace: pd.Series) -> None:
    start, end = _window(daily_trace, 2)
    result = run_backtest(prepare(daily_trace, SETTINGS, start=start, end=end))
    check = verdict(result)
    best, pred, oracle = (result.policies[k].score for k in ("hpa_best", "predictive", "oracle"))
    assert check.saving == pytest.approx(1 - pred.pod_hours / best.pod_hours)
    assert check.realised == pytest.approx(pred.under_provisioned_pct / 100)
    assert check.shortfall_ok == (check.realised <= 1.2 * result.budget)
    assert check.predictive_vs_oracle == pytest.approx(pred.pod_hours / oracle.pod_hours)
    assert check.met == (check.saving >= 0.2 and check.shortfall_ok)


def test_a_window_without_enough_history_is_refused(daily_trace: pd.Series) -> None:
    with pytest.raises(WindowError, match="needs 0 days 00:32:00 of history first"):
        prepare(daily_trace, SETTINGS, start=daily_trace.index[10], end=daily_trace.index[100])


def test_a_window_past_the_trace_or_empty_is_refused(daily_trace: pd.Series) -> None:
    late = daily_trace.index[-1] + pd.Timedelta("1D")
    with pytest.raises(WindowError, match="after the trace ends"):
        prepare(daily_trace, SETTINGS, start=daily_trace.index[100], end=late)
    with pytest.raises(WindowError, match="fewer than 2 intervals"):
        prepare(daily_trace, SETTINGS, start=daily_trace.index[100], end=daily_trace.index[101])
    silent = daily_trace * 0
    with pytest.raises(WindowError, match="no demand"):
        prepare(silent, SETTINGS, start=daily_trace.index[100], end=daily_trace.index[200])


def test_the_operator_path_makes_the_backtested_decisions(daily_trace: pd.Series) -> None:
    """PredictiveAutoscaler.step (what the operator runs) equals the backtest's replay."""
    start, end = _window(daily_trace, 2)
    settings = replace(SETTINGS, pod_capacity=25.0)
    prepared = prepare(daily_trace, settings, start=start, end=end)
    replayed = replay_predictive(prepared, settings.shortfall_budget)[0].supply.replicas
    first, warm = prepared.first, prepared.warm
    values, times = daily_trace.to_numpy(), daily_trace.index
    autoscaler = PredictiveAutoscaler(
        autoscaler_settings(settings, 25.0, pd.Timedelta("1min")),
        replicas=int(np.ceil(values[first - 1] / 25.0)),
    )
    autoscaler.preload(times[0], values[: first - 1], replay=warm)
    stepped = [
        autoscaler.step(times[t - 1], float(values[t - 1])).replicas
        for t in range(first, prepared.last)
    ]
    np.testing.assert_array_equal(replayed, stepped)

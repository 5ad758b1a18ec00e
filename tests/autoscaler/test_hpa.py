"""The HPA model follows Kubernetes' replica calculator and default behaviour."""

from __future__ import annotations

import math

import pandas as pd

from autoscaler.hpa import HPAModel, HPASettings

T0 = pd.Timestamp("2024-01-01")
MINUTE = pd.Timedelta("1min")


def _hpa(**kwargs: float) -> HPAModel:
    return HPAModel(HPASettings(**kwargs), pod_capacity=10.0, step=MINUTE)  # type: ignore[arg-type]


def test_within_tolerance_nothing_changes() -> None:
    hpa = _hpa()
    # 10 pods at target 0.7 serve 70; 75 is a ratio of 1.07
    assert hpa.step(T0, 75.0, ready=10, current=10) == 10


def test_scale_up_uses_the_ratio_rule_on_the_last_interval() -> None:
    assert _hpa().step(T0, 140.0, ready=10, current=10) == 20


def test_scale_up_is_limited_to_double_or_four_pods_per_period() -> None:
    assert _hpa().step(T0, 7000.0, ready=10, current=10) == 20
    assert _hpa().step(T0, 7000.0, ready=1, current=1) == 5


def test_unready_pods_count_as_idle_when_scaling_up() -> None:
    # 10 ready of 14: per ready pod the ratio is 1.14, but over all 14 pods it is 0.82
    assert _hpa().step(T0, 80.0, ready=10, current=14) == 14


def test_scale_down_is_stabilised_over_300_seconds() -> None:
    hpa = _hpa()
    replicas = 20
    seen = []
    for minute in range(7):
        replicas = hpa.step(
            T0 + minute * MINUTE, 70.0 if minute else 140.0, ready=replicas, current=replicas
        )
        seen.append(replicas)
    assert seen == [20, 20, 20, 20, 20, 10, 10]


def test_missing_metrics_do_not_scale() -> None:
    assert _hpa().step(T0, math.nan, ready=10, current=10) == 10


def test_bounds_apply() -> None:
    assert _hpa(max_replicas=12).step(T0, 140.0, ready=10, current=10) == 12
    assert _hpa(min_replicas=3).step(T0, 0.0, ready=10, current=10) == 3

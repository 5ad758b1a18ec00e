"""The PredictiveAutoscaler's metrics: one series per resource, the reason as an info gauge."""

from __future__ import annotations

import math

from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from k8s_operator import autoscaler_metrics


def _samples(name: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = generate_latest(REGISTRY).decode()
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and s.labels.get("namespace") == "ns-metrics"
    }


def test_a_decision_is_exported_with_its_reason_and_a_changed_reason_replaces_the_old() -> None:
    autoscaler_metrics.report(
        "ns-metrics",
        "gw",
        reason="model-fallback",
        recommended=25,
        current=25,
        forecast=240.5,
        forecast_upper=260.0,
        actual=250.0,
        budget=0.01,
        realised=0.004,
        anomaly="surge",
    )
    who = (("name", "gw"), ("namespace", "ns-metrics"))
    assert _samples("librechat_autoscaler_recommended_replicas") == {who: 25.0}
    assert _samples("librechat_autoscaler_forecast") == {who: 240.5}
    assert _samples("librechat_autoscaler_actual") == {who: 250.0}
    assert _samples("librechat_autoscaler_reason") == {(*who, ("reason", "model-fallback")): 1.0}
    assert _samples("librechat_autoscaler_shortfall_budget") == {who: 0.01}
    assert _samples("librechat_autoscaler_shortfall_realised") == {who: 0.004}
    assert _samples("librechat_autoscaler_anomaly") == {
        (("kind", "surge"), *who): 1.0,
        (("kind", "drop"), *who): 0.0,
    }

    autoscaler_metrics.report("ns-metrics", "gw", reason="predictive", recommended=30)
    reasons = _samples("librechat_autoscaler_reason")
    assert list(reasons) == [(*who, ("reason", "predictive"))]
    assert math.isnan(_samples("librechat_autoscaler_forecast")[who])  # no forecast: no data

    autoscaler_metrics.forget("ns-metrics", "gw")
    for metric in autoscaler_metrics.ALL:
        (family,) = metric.describe()
        assert _samples(family.name) == {}

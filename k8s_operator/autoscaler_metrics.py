"""The PredictiveAutoscaler's Prometheus metrics: what each loop decided, per resource.

What belongs here: the gauges the operator serves on its metrics port (next to the reconcile
metrics of :mod:`k8s_operator.handlers`) for every ``PredictiveAutoscaler``, labelled by its
``namespace`` and ``name``, and the two functions that set and drop them. The loop
(:func:`k8s_operator.autoscaling.tick`) reports each decision here; the Grafana autoscaler
dashboard (:mod:`slos.dashboards`) reads exactly these names, and a test checks it.

The reason is an info-style gauge: one series per resource, its ``reason`` label the rule that
set the replicas (``predictive``, ``reactive-floor``, ``event``, ``model-fallback``,
``bad-data-hold``, ``bad-data-floor``, ``target-missing``, ``invalid-spec``), value 1; the
previous reason's series is removed when it changes.
"""

from __future__ import annotations

import contextlib
import math
import threading

from prometheus_client import Gauge

LABELS = ("namespace", "name")
"""Every autoscaler series carries the resource's namespace and name."""

FORECAST = Gauge(
    "librechat_autoscaler_forecast",
    "Mean forecast of the autoscaler's query at the horizon (the query's unit)",
    LABELS,
)
FORECAST_UPPER = Gauge(
    "librechat_autoscaler_forecast_upper",
    "Upper bound of the forecast band the replicas are sized for (the query's unit)",
    LABELS,
)
ACTUAL = Gauge(
    "librechat_autoscaler_actual",
    "Last value of the autoscaler's query read from Prometheus (the query's unit)",
    LABELS,
)
RECOMMENDED = Gauge(
    "librechat_autoscaler_recommended_replicas", "Replicas the autoscaler decided on", LABELS
)
CURRENT = Gauge(
    "librechat_autoscaler_current_replicas",
    "Replicas of the target after the decision (unchanged in observe mode)",
    LABELS,
)
REASON = Gauge(
    "librechat_autoscaler_reason",
    "The rule that set the replicas: 1 for the current reason",
    [*LABELS, "reason"],
)

SHORTFALL_BUDGET = Gauge(
    "librechat_autoscaler_shortfall_budget",
    "Share of intervals the autoscaler may under-provision (spec.shortfallBudget)",
    LABELS,
)
SHORTFALL_REALISED = Gauge(
    "librechat_autoscaler_shortfall_realised",
    "Share of intervals so far in which the pods the autoscaler made ready fell short",
    LABELS,
)
ANOMALY = Gauge(
    "librechat_autoscaler_anomaly",
    "1 while demand stays outside the forecast's calibrated band: kind surge or drop",
    [*LABELS, "kind"],
)
ANOMALY_KINDS = ("surge", "drop")
"""The ``kind`` label values of :data:`ANOMALY`; both are exported for every resource."""
VALUES = (
    FORECAST,
    FORECAST_UPPER,
    ACTUAL,
    RECOMMENDED,
    CURRENT,
    SHORTFALL_BUDGET,
    SHORTFALL_REALISED,
)
"""The per-resource value gauges (the reason gauge has one more label)."""

ALL = (*VALUES, REASON, ANOMALY)
"""Every metric this module defines."""

_reasons: dict[tuple[str, str], str] = {}
_lock = threading.Lock()


def _set_reason(namespace: str, name: str, reason: str) -> None:
    with _lock:
        previous = _reasons.get((namespace, name))
        if previous is not None and previous != reason:
            REASON.remove(namespace, name, previous)
        _reasons[(namespace, name)] = reason
        REASON.labels(namespace, name, reason).set(1)


def report(
    namespace: str,
    name: str,
    *,
    reason: str,
    recommended: int | None = None,
    current: int | None = None,
    forecast: float | None = None,
    forecast_upper: float | None = None,
    actual: float | None = None,
    budget: float | None = None,
    realised: float | None = None,
    anomaly: str | None = None,
) -> None:
    """Record one decision; a value that is None is exported as NaN (no data)."""
    for gauge, value in (
        (FORECAST, forecast),
        (FORECAST_UPPER, forecast_upper),
        (ACTUAL, actual),
        (RECOMMENDED, recommended),
        (CURRENT, current),
        (SHORTFALL_BUDGET, budget),
        (SHORTFALL_REALISED, realised),
    ):
        gauge.labels(namespace, name).set(math.nan if value is None else value)
    for kind in ANOMALY_KINDS:
        ANOMALY.labels(namespace, name, kind).set(1 if anomaly == kind else 0)
    _set_reason(namespace, name, reason)


def forget(namespace: str, name: str) -> None:
    """Drop every series of a resource that went away."""
    with _lock:
        reason = _reasons.pop((namespace, name), None)
        if reason is not None:
            REASON.remove(namespace, name, reason)
    for gauge in VALUES:
        with contextlib.suppress(KeyError):
            gauge.remove(namespace, name)
    for kind in ANOMALY_KINDS:
        with contextlib.suppress(KeyError):
            ANOMALY.remove(namespace, name, kind)

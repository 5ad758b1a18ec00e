"""The PredictiveAutoscaler loop scales a service from a series in the platform's real Prometheus.

The test serves a gauge (requests per second) that Prometheus scrapes every 5 s; the operator
queries it with PromQL, decides with the autoscaler library, and writes replicas through the
service's scale subresource.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

import pytest

from k8s_operator.kube import Kube
from tests.conftest import PlatformSession
from tests.k8s_operator.conftest import Gauge, OperatorProcess, autoscaler_resources, kill_component
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _status(kube: Kube, namespace: str) -> dict[str, Any]:
    pas = kube.get("PredictiveAutoscaler", namespace, "gw") or {}
    return dict(pas.get("status") or {})


def _deployment_replicas(kube: Kube, namespace: str) -> int:
    return int((kube.get("Deployment", namespace, "gw") or {}).get("spec", {}).get("replicas", 0))


def test_autoscaler_scales_a_service_from_prometheus(
    kube: Kube, operator: OperatorProcess, namespace: str, gauge: Gauge
) -> None:
    gauge.value = 250.0  # 25 pods' worth at 10 rps each
    for obj in autoscaler_resources(namespace, "auto"):
        kube.apply(obj)

    wait_until(lambda: _deployment_replicas(kube, namespace) >= 25, 90, "scale-up to >= 25 pods")

    # The operator scales first and reports after: the status may trail the roll-out a little.
    def reported() -> dict[str, Any] | None:
        status = _status(kube, namespace)
        return status if status.get("recommendedReplicas", 0) >= 25 else None

    status = wait_until(reported, 30, "the status to report the scale-up")
    assert status["mode"] == "auto"
    # A minute of history is too little to trust a forecast: the reactive rule decides, and says so.
    assert status["reason"] in {"model-fallback", "reactive-floor", "predictive"}
    assert status["detail"]
    shortfall = status["shortfall"]  # the budget, and how the decisions so far have kept it
    assert shortfall["budget"] == 0.01
    assert shortfall["intervals"] >= 1
    assert 0 <= shortfall["realised"] <= 1
    assert 0.5 <= shortfall["level"] < 1

    # The replicas go through the scale subresource. A timer tick between the two reads may have
    # moved the recommendation on, so wait for the service to match the latest one.
    def scaled_as_recommended() -> bool:
        svc = kube.get("LibreChatService", namespace, "gw") or {}
        replicas = svc.get("spec", {}).get("replicas")
        return bool(replicas == _status(kube, namespace)["recommendedReplicas"])

    wait_until(scaled_as_recommended, 30, "the service's replicas to match the recommendation")

    gauge.value = 5.0
    wait_until(lambda: _deployment_replicas(kube, namespace) == 2, 120, "scale-down to min 2")


def test_observe_mode_records_but_changes_nothing(
    kube: Kube, operator: OperatorProcess, namespace: str, gauge: Gauge
) -> None:
    gauge.value = 300.0
    for obj in autoscaler_resources(namespace, "observe"):
        kube.apply(obj)
    wait_until(
        lambda: _status(kube, namespace).get("recommendedReplicas", 0) >= 30,
        90,
        "a shadow decision",
    )
    svc = kube.get("LibreChatService", namespace, "gw") or {}
    assert "replicas" not in svc["spec"]
    assert _deployment_replicas(kube, namespace) == 2
    assert _status(kube, namespace)["currentReplicas"] == 2


def test_no_metric_never_scales_down_and_says_why(
    kube: Kube, operator: OperatorProcess, namespace: str
) -> None:
    objs = autoscaler_resources(namespace, "auto")
    objs[1]["spec"]["query"] = "sum(librechat_metric_that_does_not_exist)"
    for obj in objs:
        kube.apply(obj)
    kube.scale("LibreChatService", namespace, "gw", 6)
    # A timer tick before the scale decides on the 2 replicas it saw then: wait for a decision
    # made at 6, and for the operator to have rolled 6 out.
    wait_until(lambda: _status(kube, namespace).get("currentReplicas") == 6, 60, "a decision at 6")
    wait_until(lambda: _deployment_replicas(kube, namespace) == 6, 60, "the scale to 6")
    status = _status(kube, namespace)
    assert status["reason"] == "bad-data-hold"
    assert "returned no samples" in status["detail"]
    assert _deployment_replicas(kube, namespace) == 6


def test_a_prometheus_outage_holds_the_replicas_and_says_so(
    kube: Kube,
    operator: OperatorProcess,
    namespace: str,
    gauge: Gauge,
    platform_session: PlatformSession,
) -> None:
    gauge.value = 250.0  # 25 pods' worth: the reactive floor over the last good data
    for obj in autoscaler_resources(namespace, "auto"):
        kube.apply(obj)
    wait_until(lambda: _deployment_replicas(kube, namespace) >= 25, 90, "scale-up to >= 25 pods")
    before = _deployment_replicas(kube, namespace)

    platform = platform_session.platform
    kill_component(platform, "prometheus")
    gauge.value = 5.0  # what a scale-down would follow, were the metric readable
    try:
        seen: list[int] = []
        deadline = time.monotonic() + 30  # six control intervals of 5 s
        while time.monotonic() < deadline:
            seen.append(_deployment_replicas(kube, namespace))
            time.sleep(0.5)
        status = _status(kube, namespace)
    finally:
        platform.up(3)
    print(f"\nreplicas before the outage {before}, during it {min(seen)}..{max(seen)}; {status}")
    assert min(seen) >= before, "scaled down while the metrics were unreadable"
    assert status["reason"] == "bad-data-hold", status
    assert "metrics:" in status["detail"], status  # the status says the read failed, and why
    assert status["recommendedReplicas"] >= before

    # Back: the loop reads the metric again and decides by its rules, not by the hold.
    def resumed() -> bool:
        status = _status(kube, namespace)
        return status.get("reason") != "bad-data-hold" and "metrics:" not in status["detail"]

    wait_until(resumed, 120, "decisions from the metric again")


def test_a_long_gap_in_the_metric_ends_the_hold_at_the_reactive_floor(
    kube: Kube, operator: OperatorProcess, namespace: str, gauge: Gauge
) -> None:
    """The hold lasts ``badDataHoldSeconds``; then the last good value sizes the service."""
    gauge.value = 250.0  # the reactive floor of this last good value: 25 pods
    objs = autoscaler_resources(namespace, "auto")
    objs[1]["spec"]["behavior"]["badDataHoldSeconds"] = 40  # eight control intervals
    for obj in objs:
        kube.apply(obj)
    wait_until(lambda: _deployment_replicas(kube, namespace) >= 25, 90, "scale-up to >= 25 pods")
    gauge.value = math.nan  # an exporter that has lost its source: unusable from now on
    seen: list[tuple[str, int]] = []

    def reason(wanted: str) -> dict[str, Any] | None:
        status = _status(kube, namespace)
        now = (str(status.get("reason")), int(status.get("recommendedReplicas", 0)))
        if not seen or seen[-1] != now:
            seen.append(now)
        if now[0] != wanted:
            return None
        good = re.search(r"last good value ([0-9.e+]+)", str(status.get("detail")))
        floor = math.ceil(float(good.group(1)) / 10) if good else -1  # 10 rps per pod
        return status if now[1] == floor else None

    # the floor goes through the scale-down stabilisation (10 s) like any other decision
    try:
        status = wait_until(lambda: reason("bad-data-floor"), 120, "the reactive floor")
    finally:
        print(f"\nreasons and recommendations, in order: {seen}")
    print(status["detail"])
    holds = [replicas for why, replicas in seen if why == "bad-data-hold"]
    assert holds, seen  # it held first ...
    first = seen.index(("bad-data-hold", holds[0]))
    before = max([replicas for _, replicas in seen[:first]] or [holds[0]])
    assert min(holds) >= before, seen  # ... never below what it had ...
    assert "no good data for" in status["detail"], status
    floor = status["recommendedReplicas"]  # ... then the last good value decides (reason())
    assert floor >= 25, status  # the gauge served 250 before the gap
    wait_until(lambda: _deployment_replicas(kube, namespace) == floor, 60, "the floor rolled out")


def test_a_known_event_with_a_rate_scales_for_it_and_says_so(
    kube: Kube, operator: OperatorProcess, namespace: str, gauge: Gauge
) -> None:
    """spec.events: an event running now expects 300 rps, so 30 pods, whatever demand says."""
    gauge.value = 50.0  # 5 pods' worth
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60))
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 600))
    objs = autoscaler_resources(namespace, "auto")
    objs[1]["spec"]["events"] = [{"name": "launch", "start": stamp, "end": until, "rate": 300}]
    for obj in objs:
        kube.apply(obj)

    def for_the_event() -> dict[str, Any] | None:
        status = _status(kube, namespace)
        return status if status.get("reason") == "event" else None

    try:
        status = wait_until(for_the_event, 90, "a decision for the event")
    finally:
        print(f"status: {_status(kube, namespace)}")
    assert status["event"] == "launch"
    assert status["recommendedReplicas"] == 30
    assert "event launch expects 300" in status["detail"]
    wait_until(lambda: _deployment_replicas(kube, namespace) == 30, 60, "the scale to 30")

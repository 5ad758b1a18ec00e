"""Node headroom: pause pods under a negative PriorityClass, preempted by the real scheduler.

A small kwok node (4 CPUs) stands for a node pool of its own: it carries a label and a taint,
and only the test's service selects the label and tolerates the taint — and so, copied from the
service, do its headroom pods. Nothing else can land there (before, the platform's nodes were
cordoned instead, and a pod of another namespace scheduled meanwhile could take the room the
test counted on). The service's pods request one CPU each and so do its headroom pods: one
service pod and three headroom pods fill the node. When demand rises and the autoscaler scales
the service up, kube-scheduler preempts headroom pods to place the service's: the Events of the
preempted pods and where every pod runs show it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from k8s_operator import headroom
from k8s_operator.kube import Kube
from localplatform.components import KWOK_NODE_ANNOTATION
from tests.k8s_operator.conftest import Gauge, OperatorProcess, autoscaler_resources
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NODE = "kwok-headroom-test"


POOL_LABEL = "librechat.io/test-pool"
TAINT = {"key": "librechat.io/test-headroom", "value": "true", "effect": "NoSchedule"}
PLACEMENT = {
    "nodeSelector": {POOL_LABEL: "headroom"},
    "tolerations": [{"key": TAINT["key"], "operator": "Exists", "effect": "NoSchedule"}],
}
"""What the test's service asks for, and its headroom copies: this node and no other."""


@pytest.fixture
def small_node(kube: Kube) -> Iterator[str]:
    """A 4-CPU kwok node with its own label and taint; removed after."""
    kube.apply(headroom.priority_class())  # what `librechat-ops operator install` applies
    capacity = {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"}
    kube.request(
        "POST",
        "/api/v1/nodes",
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": NODE,
                "annotations": {KWOK_NODE_ANNOTATION: "fake"},
                "labels": {"kubernetes.io/hostname": NODE, "type": "kwok", POOL_LABEL: "headroom"},
            },
            "spec": {"taints": [TAINT]},
            "status": {"capacity": capacity, "allocatable": capacity},
        },
    )
    try:

        def ready() -> bool:
            node = kube.get("Node", None, NODE) or {}
            conditions = node.get("status", {}).get("conditions") or []
            taints = node.get("spec", {}).get("taints") or []
            up = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            return up and [t["key"] for t in taints] == [TAINT["key"]]

        wait_until(ready, 60, f"kwok to make {NODE} Ready")
        yield NODE
    finally:
        kube.request("DELETE", f"/api/v1/nodes/{NODE}")


def _pods(kube: Kube, namespace: str) -> list[dict[str, Any]]:
    return list(kube.request("GET", f"/api/v1/namespaces/{namespace}/pods")["items"])


def _placed(kube: Kube, namespace: str) -> dict[str, list[str]]:
    """Running pods on the small node, by owner: the service's and the headroom's."""
    out: dict[str, list[str]] = {"service": [], "headroom": []}
    for pod in _pods(kube, namespace):
        running = pod.get("status", {}).get("phase") == "Running"
        if not running or pod["spec"].get("nodeName") != NODE:
            continue
        kind = "headroom" if headroom.COMPONENT_LABEL in pod["metadata"]["labels"] else "service"
        out[kind].append(pod["metadata"]["name"])
    return out


def _state(kube: Kube, namespace: str) -> str:
    """What the autoscaler, the service and every pod look like (printed when a wait ends)."""
    status = (kube.get("PredictiveAutoscaler", namespace, "gw") or {}).get("status", {})
    service = (kube.get("LibreChatService", namespace, "gw") or {}).get("spec", {})
    pods = [
        (
            p["metadata"]["name"],
            p["status"].get("phase"),
            p["spec"].get("nodeName"),
            p["status"].get("nominatedNodeName"),
            bool(p["metadata"].get("deletionTimestamp")),
        )
        for p in _pods(kube, namespace)
    ]
    listed = kube.request("GET", f"/api/v1/namespaces/{namespace}/events")["items"]
    listed.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    events = [
        (e["involvedObject"]["name"], e.get("reason"), e.get("message"))
        for e in listed
        if e.get("reason") in {"Preempted", "FailedScheduling", "Scheduled"}
    ][-30:]  # the newest, in the order they happened
    node = kube.request("GET", f"/api/v1/pods?fieldSelector=spec.nodeName%3D{NODE}")["items"]
    others = [
        (p["metadata"]["namespace"], p["metadata"]["name"], p["status"].get("phase"))
        for p in node
        if p["metadata"]["namespace"] != namespace
    ]
    return (
        f"other namespaces' pods on {NODE}: {others}\n"
        f"autoscaler: {status.get('reason')} {status.get('recommendedReplicas')} "
        f"{status.get('headroom')} {status.get('detail')}\nservice replicas: "
        f"{service.get('replicas')}\npods (name, phase, node, nominated, deleting): {pods}\n"
        f"events: {events}"
    )


def test_the_scheduler_preempts_the_headroom_for_the_services_pods(
    kube: Kube, operator: OperatorProcess, namespace: str, gauge: Gauge, small_node: str
) -> None:
    gauge.value = 5.0  # one pod's worth at 10 rps per pod
    service, autoscaler = autoscaler_resources(namespace, "auto")
    service["spec"].update(
        {"minReplicas": 1, "maxReplicas": 10, "resources": {"requests": {"cpu": "1"}}, **PLACEMENT}
    )
    autoscaler["spec"]["headroom"] = {"enabled": True, "minPods": 3}
    kube.apply(service)
    kube.apply(autoscaler)

    def full() -> dict[str, list[str]] | None:
        placed = _placed(kube, namespace)
        count = len(placed["service"]) + len(placed["headroom"])
        return placed if count == 4 and placed["service"] and placed["headroom"] else None

    try:
        before = wait_until(full, 120, "the service's pods and headroom pods filling the node")
    finally:
        phases = [(p["metadata"]["name"], p["status"].get("phase")) for p in _pods(kube, namespace)]
        print(f"\npods: {phases}")
    print(f"before the rise: {json.dumps(before)}")
    status = (kube.get("PredictiveAutoscaler", namespace, "gw") or {}).get("status", {})
    assert status["headroom"]["deployment"] == "gw-headroom"
    assert status["headroom"]["replicas"] >= 3  # minPods, or more if the forecast says so
    deployment = kube.get("Deployment", namespace, "gw-headroom") or {}
    pod_spec = deployment["spec"]["template"]["spec"]
    assert pod_spec["priorityClassName"] == headroom.PRIORITY_CLASS
    assert pod_spec["containers"][0]["image"] == headroom.PAUSE_IMAGE
    assert pod_spec["containers"][0]["resources"]["requests"] == {"cpu": "1"}
    assert pod_spec["nodeSelector"] == PLACEMENT["nodeSelector"]  # the service's node pool
    assert pod_spec["tolerations"] == PLACEMENT["tolerations"]

    gauge.value = 35.0  # four pods' worth: the node holds them only without the headroom

    def service_placed() -> dict[str, list[str]] | None:
        placed = _placed(kube, namespace)
        grown = len(placed["service"]) >= max(3, len(before["service"]) + 1)
        return placed if grown else None

    try:
        after = wait_until(service_placed, 120, "the service's new pods to be placed")
    finally:
        print(f"\n{_state(kube, namespace)}")
    events = kube.request("GET", f"/api/v1/namespaces/{namespace}/events")["items"]
    preempted = sorted(
        {
            e["involvedObject"]["name"]
            for e in events
            if e.get("reason") == "Preempted"
            and e["involvedObject"]["name"].startswith("gw-headroom")
        }
    )
    print(f"after the rise: {json.dumps(after)}; preempted headroom pods: {preempted}")
    gone = set(before["headroom"]) - set(after["headroom"])
    assert gone, (before, after)  # the service's new pods took the headroom's room ...
    assert gone <= set(preempted), events  # ... because the scheduler preempted those pods
    assert len(after["service"]) + len(after["headroom"]) <= 4  # never more than the node holds

"""Workloads and private kwok nodes for the Kubernetes chaos tests.

Node faults in tests hit only nodes the test made itself (labelled and tainted for it), so
tests of other areas running meanwhile never lose a pod; the platform's three nodes stay Ready.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from localplatform.cluster import LocalPlatform
from localplatform.components import KWOK_NODE_ANNOTATION
from localplatform.errors import PlatformError
from localplatform.nodes import CAPACITY
from tests.waiting import wait_until

APP_LABEL = "chaos-test/app"
NODE_LABEL = "chaos-test/nodes"


def deployment(name: str, replicas: int, *, pool: str = "") -> dict[str, Any]:
    """A Deployment whose pods kwok runs; with ``pool`` they go only to that private pool."""
    labels = {APP_LABEL: name}
    pod_spec: dict[str, Any] = {
        "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}],
        "terminationGracePeriodSeconds": 0,
    }
    if pool:
        pod_spec["nodeSelector"] = {NODE_LABEL: pool}
        pod_spec["tolerations"] = [
            {"key": NODE_LABEL, "operator": "Equal", "value": pool, "effect": "NoSchedule"}
        ]
        pod_spec["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": labels},
            }
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def available(platform: LocalPlatform, ns: str, name: str) -> bool:
    """Every replica available (the same definition as the probe, read independently)."""
    dep = platform.api().request("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/{name}")
    status = dep.get("status") or {}
    conditions = status.get("conditions") or []
    ok = any(c["type"] == "Available" and c["status"] == "True" for c in conditions)
    return ok and status.get("availableReplicas", 0) >= dep["spec"]["replicas"]


def create(platform: LocalPlatform, ns: str, name: str, replicas: int, *, pool: str = "") -> str:
    """Create the Deployment and wait until it is available; returns its pod selector."""
    body = deployment(name, replicas, pool=pool)
    platform.api().request("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", body)
    wait_until(lambda: available(platform, ns, name), 60, f"deployment {name} available")
    return f"{APP_LABEL}={name}"


def pods(platform: LocalPlatform, ns: str, selector: str) -> list[dict[str, Any]]:
    """The live (not deleting) pods matching ``selector``."""
    path = f"/api/v1/namespaces/{ns}/pods?labelSelector={selector.replace('/', '%2F')}"
    items = platform.api().request("GET", path)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def _node(name: str, pool: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {NODE_LABEL: pool, "type": "kwok", "kubernetes.io/hostname": name},
        },
        "spec": {"taints": [{"key": NODE_LABEL, "value": pool, "effect": "NoSchedule"}]},
        "status": {"capacity": CAPACITY, "allocatable": CAPACITY},
    }


def ready_nodes(platform: LocalPlatform, selector: str = "") -> list[str]:
    """Names of Ready, schedulable nodes (matching ``selector``)."""
    query = f"?labelSelector={selector.replace('/', '%2F')}" if selector else ""
    items = platform.api().request("GET", "/api/v1/nodes" + query)["items"]
    return sorted(
        n["metadata"]["name"]
        for n in items
        if not n["spec"].get("unschedulable")
        and any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in n.get("status", {}).get("conditions") or []
        )
    )


@contextmanager
def private_pool(platform: LocalPlatform, count: int = 2) -> Iterator[str]:
    """``count`` extra kwok nodes that only this test's pods tolerate; yields the pool's name
    (label ``chaos-test/nodes=<pool>``) and deletes the nodes afterwards."""
    pool = f"pool-{secrets.token_hex(3)}"
    names = [f"chaos-{pool}-{i}" for i in range(count)]
    api = platform.api()
    for name in names:
        api.request("POST", "/api/v1/nodes", _node(name, pool))
    try:
        wait_until(
            lambda: len(ready_nodes(platform, f"{NODE_LABEL}={pool}")) == count, 60, "the pool"
        )
        yield pool
    finally:
        for name in names:
            with contextlib.suppress(PlatformError):  # already deleted by the test
                api.request("DELETE", f"/api/v1/nodes/{name}")

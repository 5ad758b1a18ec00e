"""Simulated nodes: kwok keeps every node with the kwok annotation Ready and runs its pods."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .components import KWOK_NODE_ANNOTATION
from .errors import StartError
from .kubeapi import KubeApi

MANAGED_LABEL = "librechat-ops/kwok-node"
LIFECYCLE_TAINTS = frozenset({"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"})
"""Taints the node lifecycle controller sets on nodes it has seen not ready or unreachable."""
ZONES = ("zone-a", "zone-b", "zone-c")
REGION = "local"
CAPACITY = {"cpu": "128", "memory": "1Ti", "pods": "1000", "ephemeral-storage": "4Ti"}
"""Each simulated node: a large machine (no container runs, so size is free), with room for 1,000
pods of 100m: three nodes hold the 1,000-service benchmark."""


def node_name(index: int) -> str:
    return f"kwok-node-{index}"


def node_manifest(index: int) -> dict[str, Any]:
    """A kwok node, spread round-robin over three zones of one region."""
    name = node_name(index)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                MANAGED_LABEL: "true",
                "type": "kwok",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "topology.kubernetes.io/region": REGION,
                "topology.kubernetes.io/zone": ZONES[index % len(ZONES)],
                "node.kubernetes.io/instance-type": "kwok.128c1t",
            },
        },
        "spec": {},
        "status": {"capacity": CAPACITY, "allocatable": CAPACITY},
    }


def ensure_nodes(
    api: KubeApi,
    count: int,
    *,
    timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[str]:
    """Make exactly ``count`` managed nodes exist and wait until all take pods; returns names.

    "Take pods" means Ready and also free of the node lifecycle controller's taints: after kwok
    restarts, a node is Ready again a few seconds before the controller lifts its
    ``not-ready:NoSchedule`` taint, and pods scheduled meanwhile all land on whichever node was
    cleared first.
    """
    if count < 1:
        raise ValueError("the platform needs at least one node")
    selector = f"?labelSelector={MANAGED_LABEL}%3Dtrue"
    listed = api.request("GET", "/api/v1/nodes" + selector)["items"]
    existing = {n["metadata"]["name"]: n for n in listed}
    wanted = [node_name(i) for i in range(count)]
    for i, name in enumerate(wanted):
        if name not in existing:
            api.request("POST", "/api/v1/nodes", node_manifest(i))
        elif existing[name].get("status", {}).get("capacity") != CAPACITY:
            # A node from an older platform: give it today's size.
            body = {"status": {"capacity": CAPACITY, "allocatable": CAPACITY}}
            api.request("PATCH", f"/api/v1/nodes/{name}/status", body)
    for name in sorted(set(existing) - set(wanted)):
        api.request("DELETE", f"/api/v1/nodes/{name}")
    deadline = clock() + timeout
    while True:
        items = api.request("GET", "/api/v1/nodes" + selector)["items"]
        not_ready = sorted({*wanted} - {n["metadata"]["name"] for n in items if _takes_pods(n)})
        if not not_ready:
            return wanted
        if clock() > deadline:
            raise StartError(
                f"nodes not Ready (or still tainted not-ready) after {timeout:.0f} s: "
                + ", ".join(not_ready),
                hint="kwok keeps nodes Ready: check its log (`librechat-ops cluster status`)",
            )
        sleep(0.25)


def release_node_leases(api: KubeApi) -> list[str]:
    """Delete the node leases of the managed nodes; returns the names released.

    A new kwok process takes a node over only once the lease of the previous holder expires
    (40 s), so its pods would sit scheduled but not Running. Called right before kwok starts.
    """
    leases = api.request("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases")
    managed = {
        n["metadata"]["name"]
        for n in api.request("GET", f"/api/v1/nodes?labelSelector={MANAGED_LABEL}%3Dtrue")["items"]
    }
    released = []
    for lease in leases["items"]:
        name = lease["metadata"]["name"]
        if name in managed:
            path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"
            api.request("DELETE", path)
            released.append(name)
    return released


def wait_for_service_account(
    api: KubeApi,
    namespace: str = "default",
    *,
    timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Wait until the controller manager has created ``namespace``'s ``default`` ServiceAccount.

    Pods cannot be created in a namespace before it exists (the ServiceAccount admission plugin
    rejects them, and the ReplicaSet controller backs off), so "ready" includes it.
    """
    deadline = clock() + timeout
    path = f"/api/v1/namespaces/{namespace}/serviceaccounts"
    while not any(sa["metadata"]["name"] == "default" for sa in api.request("GET", path)["items"]):
        if clock() > deadline:
            raise StartError(
                f"no `default` ServiceAccount in namespace {namespace} after {timeout:.0f} s",
                hint="kube-controller-manager creates it: check its log",
            )
        sleep(0.1)


def _takes_pods(node: dict[str, Any]) -> bool:
    """Ready and without a lifecycle taint (a cordon is the user's choice and does not count)."""
    conditions = node.get("status", {}).get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    taints = node.get("spec", {}).get("taints") or []
    return ready and not any(t.get("key") in LIFECYCLE_TAINTS for t in taints)

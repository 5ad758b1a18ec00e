"""The operator killed with SIGKILL at random points while reconciling always converges, with no
duplicate and no missing child."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from k8s_operator import crds
from k8s_operator.inventory import INVENTORY
from k8s_operator.kube import Kube
from tests.k8s_operator.conftest import OperatorProcess
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHILD_KINDS = (
    "ServiceAccount",
    "ConfigMap",
    "Deployment",
    "Service",
    "PodDisruptionBudget",
    "NetworkPolicy",
)
MANAGED = "app.kubernetes.io/managed-by=librechat-operator"


def _platform(namespace: str, services: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": crds.API_VERSION,
        "kind": "LibreChat",
        "metadata": {"name": "crash", "namespace": namespace},
        "spec": {
            "version": "v0.8.8",
            "secretsRef": {"name": "crash-secrets"},
            "redis": {"urlSecretRef": {"name": "crash-stores", "key": "REDIS_URI"}},
            "api": {"minReplicas": 2, "maxReplicas": 4},
            "services": [{"name": s} for s in services],
        },
    }


def _expected_children(service: str) -> list[tuple[str, str]]:
    return sorted(
        [
            ("ConfigMap", f"{service}-config"),
            ("Deployment", service),
            ("NetworkPolicy", f"{service}-allow"),
            ("NetworkPolicy", f"{service}-default-deny"),
            ("PodDisruptionBudget", service),
            ("Service", service),
            ("ServiceAccount", service),
        ]
    )


def _converged(kube: Kube, namespace: str, services: list[str]) -> bool:
    names = sorted(s["metadata"]["name"] for s in kube.list("LibreChatService", namespace))
    wanted = sorted(["crash-api", *(f"crash-{s}" for s in services)])
    if names != wanted:
        return False
    children: list[tuple[str, str]] = sorted(
        (kind, obj["metadata"]["name"])
        for kind in CHILD_KINDS
        for obj in kube.list(kind, namespace, MANAGED)
    )
    expected = sorted(c for name in wanted for c in _expected_children(name))
    if children != expected:  # a list, not a set: a duplicate would show as an extra entry
        return False
    for name in wanted:
        svc = kube.get("LibreChatService", namespace, name) or {}
        ready = [
            c for c in (svc.get("status") or {}).get("conditions") or [] if c["type"] == "Ready"
        ]
        if not ready or ready[0]["status"] != "True":
            return False
        want = svc["spec"]["minReplicas"]
        pods = [
            p
            for p in kube.list("Pod", namespace, f"librechat.io/service={name}")
            if not p["metadata"].get("deletionTimestamp")
        ]
        if len(pods) != want:
            return False
    return True


def test_sigkill_at_random_points_always_converges(
    kube: Kube, operator: OperatorProcess, namespace: str
) -> None:
    rng = random.Random(20261126)
    names = [s.name for s in INVENTORY]
    services: list[str] = []
    kills = 0
    for _ in range(12):
        services = sorted(rng.sample(names, rng.randint(3, 8)))
        kube.apply(_platform(namespace, services))
        time.sleep(rng.uniform(0.0, 1.5))  # a random point inside the reconciliation
        operator.kill()
        kills += 1
        operator.start()
    assert kills >= 10
    wait_until(
        lambda: _converged(kube, namespace, services),
        180,
        f"convergence to {services} after {kills} SIGKILLs",
        interval=1.0,
    )

"""The operator killed with SIGKILL inside its writes while reconciling always converges, with no
duplicate and no missing child.

Each run of the operator is told to kill itself at its N-th write request (N drawn at random),
either before the request is sent or after the API server applied it and before the operator
reads the answer (``LIBRECHAT_OPERATOR_CRASH_AT_WRITE``): every kill is recorded with the write it
interrupted, so the test knows they landed inside writes, and prints them."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from k8s_operator import crds
from k8s_operator.inventory import INVENTORY
from k8s_operator.kube import Kube
from tests.conftest import PlatformSession
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


def test_sigkill_inside_writes_always_converges(
    kube: Kube, platform_session: PlatformSession, namespace: str, tmp_path: Path
) -> None:
    rng = random.Random(20261206)
    names = [s.name for s in INVENTORY]
    crashes = tmp_path / "crashes.log"
    kubeconfig = platform_session.platform.layout.kubeconfig
    services: list[str] = []
    for run in range(14):
        services = sorted(rng.sample(names, rng.randint(3, len(names))))
        point = f"{rng.randint(1, 30)},{rng.choice(['before', 'after'])},{crashes}"
        env = {"LIBRECHAT_OPERATOR_CRASH_AT_WRITE": point}
        proc = OperatorProcess(kubeconfig, tmp_path / f"operator-{run}.log", env)
        proc.start(wait=False)  # it may die at a write before its liveness endpoint is up
        kube.apply(_platform(namespace, services))
        if not proc.exited(timeout=30):  # fewer writes than N were needed
            proc.stop()
    kills = crashes.read_text().splitlines() if crashes.exists() else []
    print("\nkills, each inside a write:\n  " + "\n  ".join(kills))
    assert len(kills) >= 10

    survivor = OperatorProcess(kubeconfig, tmp_path / "operator-last.log")
    survivor.start()
    try:
        wait_until(
            lambda: _converged(kube, namespace, services),
            180,
            f"convergence to {services} after {len(kills)} kills inside writes",
            interval=1.0,
        )
    finally:
        survivor.stop()

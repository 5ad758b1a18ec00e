"""The control plane fails while the operator reconciles 50 services: kube-apiserver restarted,
then etcd restarted (each SIGKILLed, then started again). Each ends converged: every service
Ready, every child exactly once, and the services whose handlers failed on the way say so in
status and events. (Cut off from the API server: ``test_api_cut_off.py``.)"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from k8s_operator import crds
from k8s_operator.kube import Kube
from tests.conftest import PlatformSession
from tests.k8s_operator.conftest import OperatorProcess, kill_component
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SERVICES = 50
CHILDREN = {
    "ServiceAccount": 1, "ConfigMap": 1, "Deployment": 1, "Service": 1,
    "PodDisruptionBudget": 1, "NetworkPolicy": 2,
}  # fmt: skip
MANAGED = "app.kubernetes.io/managed-by=librechat-operator"


def service(namespace: str, index: int) -> dict[str, Any]:
    return {
        "apiVersion": crds.API_VERSION,
        "kind": "LibreChatService",
        "metadata": {"name": f"svc-{index}", "namespace": namespace},
        "spec": {"image": "registry.example/svc:1", "minReplicas": 1, "maxReplicas": 3},
    }


def ready_count(kube: Kube, namespace: str) -> int:
    """Services in ``namespace`` whose Ready condition is True."""
    count = 0
    for svc in kube.list("LibreChatService", namespace):
        conditions = (svc.get("status") or {}).get("conditions") or []
        count += any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
    return count


def create(kube: Kube, namespace: str, indices: range) -> None:
    for index in indices:
        kube.apply(service(namespace, index))


def assert_converged(kube: Kube, namespace: str) -> None:
    wait_until(lambda: ready_count(kube, namespace) == SERVICES, 240, "every service Ready", 1.0)
    for kind, each in CHILDREN.items():
        found = [o["metadata"]["name"] for o in kube.list(kind, namespace, MANAGED)]
        assert len(found) == each * SERVICES, (kind, len(found))  # none twice, none missing
        assert len(set(found)) == len(found), kind


def assert_reported(kube: Kube, namespace: str, log: str) -> None:
    """Every service whose handler failed on the way (as the operator's log says) says so:
    ``Reconciled`` True with reason ``Recovered`` and the last failure in its message, and a
    Normal Event."""
    failed = set(re.findall(rf"\[{namespace}/([\w-]+)\] Handler 'service_\w+' failed temp", log))
    recovered = {}
    for svc in kube.list("LibreChatService", namespace):
        for c in (svc.get("status") or {}).get("conditions") or []:
            if c["type"] == "Reconciled" and c["reason"] == "Recovered":
                recovered[svc["metadata"]["name"]] = c["message"]
    events = {
        e["involvedObject"]["name"]
        for e in kube.list("Event", namespace)
        if e.get("reason") == "Recovered" and e["involvedObject"]["kind"] == "LibreChatService"
    }
    example = next(iter(recovered.items()), None)
    print(f"{len(failed)} services failed on the way, {len(recovered)} say so, e.g. {example}")
    assert failed <= set(recovered), f"silent about {failed - set(recovered)}"
    assert all("failed attempts" in m for m in recovered.values()), recovered
    assert set(recovered) <= events, set(recovered) - events


@pytest.mark.parametrize("component", ["kube-apiserver", "etcd"])
def test_reconciling_services_converge_through_a_restart_of(
    component: str,
    kube: Kube,
    operator: OperatorProcess,
    platform_session: PlatformSession,
    namespace: str,
) -> None:
    platform = platform_session.platform
    create(kube, namespace, range(SERVICES))
    wait_until(lambda: len(kube.list("Deployment", namespace)) >= 10, 60, "10 Deployments")
    made = len(kube.list("Deployment", namespace))
    kill_component(platform, component)
    time.sleep(3.0)  # the operator meets a dead control plane for a while
    platform.up(3)
    print(f"\n{component} killed with {made}/{SERVICES} Deployments made, restarted")
    # kwok, the stand-in for the nodes' kubelets, drops a pod's stage (Pending to Running) whose
    # write failed while the control plane was down and never tries it again (kwok 0.8.0; a
    # kubelet retries): its pods would stay Pending whatever the operator does. Restarted, it
    # lists its pods and plays their stages again.
    time.sleep(5.0)
    kill_component(platform, "kwok")
    platform.up(3)
    assert_converged(kube, namespace)
    assert_reported(kube, namespace, operator.log.read_text(errors="replace"))
    assert operator.proc is not None
    assert operator.proc.poll() is None, "the operator died with the control plane"

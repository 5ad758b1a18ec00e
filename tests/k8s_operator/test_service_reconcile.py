"""A ``LibreChatService`` becomes exactly its children, Running pods and a Ready status, and the
operator keeps it that way (config rolls, scaling, drift, deletion)."""

from __future__ import annotations

from typing import Any

import pytest

from k8s_operator import crds
from k8s_operator.kube import Kube
from tests.k8s_operator.conftest import OperatorProcess
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

EXPECTED = {
    ("ServiceAccount", "search"),
    ("ConfigMap", "search-config"),
    ("Deployment", "search"),
    ("Service", "search"),
    ("PodDisruptionBudget", "search"),
    ("NetworkPolicy", "search-default-deny"),
    ("NetworkPolicy", "search-allow"),
}
KINDS = sorted({kind for kind, _ in EXPECTED})
MANAGED = "app.kubernetes.io/managed-by=librechat-operator"


def _service(namespace: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": crds.API_VERSION,
        "kind": "LibreChatService",
        "metadata": {"name": "search", "namespace": namespace},
        "spec": {
            "image": "ghcr.io/danny-avila/librechat-rag-api-dev-lite:v0.9.0",
            "minReplicas": 3,
            "maxReplicas": 25,
            "config": {"LOG_LEVEL": "info"},
            **spec,
        },
    }


def _children(kube: Kube, namespace: str) -> set[tuple[str, str]]:
    return {
        (kind, obj["metadata"]["name"])
        for kind in KINDS
        for obj in kube.list(kind, namespace, MANAGED)
    }


def _condition(obj: dict[str, Any] | None, type_: str) -> dict[str, Any] | None:
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c["type"] == type_:
            return dict(c)
    return None


def _ready(kube: Kube, namespace: str) -> bool:
    svc = kube.get("LibreChatService", namespace, "search")
    ready = _condition(svc, "Ready")
    return bool(
        svc
        and ready
        and ready["status"] == "True"
        and svc["status"]["observedGeneration"] == svc["metadata"]["generation"]
    )


def _running(kube: Kube, namespace: str) -> list[dict[str, Any]]:
    return [
        p
        for p in kube.list("Pod", namespace, "librechat.io/service=search")
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    ]


def test_service_gets_exactly_its_children_running_pods_and_ready_status(
    kube: Kube, operator: OperatorProcess, namespace: str
) -> None:
    kube.apply(_service(namespace))

    wait_until(lambda: _children(kube, namespace) == EXPECTED, 30, "the seven children")
    wait_until(lambda: len(_running(kube, namespace)) == 3, 60, "3 Running pods")
    wait_until(lambda: _ready(kube, namespace), 60, "status Ready")

    svc = kube.get("LibreChatService", namespace, "search")
    assert svc is not None
    assert svc["status"]["replicas"] == 3
    assert svc["status"]["selector"] == "librechat.io/service=search"
    assert _condition(svc, "Degraded")["status"] == "False"  # type: ignore[index]
    deployment = kube.get("Deployment", namespace, "search")
    assert deployment is not None
    owner = deployment["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"]) == ("LibreChatService", svc["metadata"]["uid"])
    pod_spec = deployment["spec"]["template"]["spec"]
    assert pod_spec["securityContext"]["runAsNonRoot"] is True
    assert pod_spec["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    zones = {
        p["spec"]["nodeName"] for p in _running(kube, namespace)
    }  # three pods over three zone-spread nodes
    assert len(zones) == 3


def test_config_change_rolls_pods_and_scale_subresource_scales(
    kube: Kube, operator: OperatorProcess, namespace: str
) -> None:
    kube.apply(_service(namespace))
    wait_until(lambda: _ready(kube, namespace), 60, "status Ready")
    before = kube.get("Deployment", namespace, "search")
    assert before is not None
    checksum = before["spec"]["template"]["metadata"]["annotations"]["librechat.io/config-checksum"]

    kube.apply(_service(namespace, config={"LOG_LEVEL": "debug"}))

    def rolled() -> bool:
        d = kube.get("Deployment", namespace, "search") or {}
        annotations = d["spec"]["template"]["metadata"]["annotations"]
        return annotations["librechat.io/config-checksum"] != checksum

    wait_until(rolled, 30, "a new pod template after the config change")
    cm = kube.get("ConfigMap", namespace, "search-config")
    assert cm is not None
    assert cm["data"] == {"LOG_LEVEL": "debug"}

    kube.scale("LibreChatService", namespace, "search", 7)
    wait_until(
        lambda: (kube.get("Deployment", namespace, "search") or {})["spec"]["replicas"] == 7,
        30,
        "the Deployment to follow the scale subresource",
    )
    kube.scale("LibreChatService", namespace, "search", 500)  # beyond maxReplicas
    wait_until(
        lambda: (kube.get("Deployment", namespace, "search") or {})["spec"]["replicas"] == 25,
        30,
        "replicas clamped to maxReplicas",
    )
    wait_until(lambda: _ready(kube, namespace), 60, "Ready again at 25 replicas")


def test_drifted_children_are_restored(
    kube: Kube, operator: OperatorProcess, namespace: str
) -> None:
    kube.apply(_service(namespace))
    wait_until(lambda: _children(kube, namespace) == EXPECTED, 30, "the children")

    # A person edits the Deployment and deletes the Service and a NetworkPolicy.
    kube.request(
        "PATCH",
        kube.path("Deployment", namespace, "search"),
        {
            "spec": {
                "replicas": 1,
                "template": {"spec": {"containers": [{"name": "search", "image": "evil:latest"}]}},
            }
        },
        content_type="application/strategic-merge-patch+json",
    )
    kube.delete("Service", namespace, "search")
    kube.delete("NetworkPolicy", namespace, "search-default-deny")

    def restored() -> bool:
        d = kube.get("Deployment", namespace, "search") or {}
        image = d["spec"]["template"]["spec"]["containers"][0]["image"]
        return (
            d["spec"]["replicas"] == 3
            and image == "ghcr.io/danny-avila/librechat-rag-api-dev-lite:v0.9.0"
            and _children(kube, namespace) == EXPECTED
        )

    wait_until(restored, 30, "the drifted and deleted children to be restored")


def test_a_label_edit_on_a_settled_deployment_is_restored(
    kube: Kube, operator: OperatorProcess, namespace: str
) -> None:
    """Once a Deployment's spec was found as wanted, later events compare its spec only when
    its generation moved; a label edit moves no generation and must be restored all the same."""
    kube.apply(_service(namespace))
    wait_until(lambda: _ready(kube, namespace), 60, "the service to be Ready")
    before = kube.get("Deployment", namespace, "search") or {}
    kube.request(
        "PATCH",
        kube.path("Deployment", namespace, "search"),
        {"metadata": {"labels": {"app.kubernetes.io/component": "tier-0"}}},
        content_type="application/merge-patch+json",
    )

    def restored() -> dict[str, Any] | None:
        d = kube.get("Deployment", namespace, "search") or {}
        label = d["metadata"]["labels"].get("app.kubernetes.io/component")
        return d if label == "tier-2" else None

    after = wait_until(restored, 30, "the Deployment's label to be restored")
    assert after["metadata"]["generation"] == before["metadata"]["generation"]


def test_deleting_the_service_deletes_its_children(
    kube: Kube, operator: OperatorProcess, namespace: str
) -> None:
    kube.apply(_service(namespace))
    wait_until(lambda: _children(kube, namespace) == EXPECTED, 30, "the children")
    svc = kube.get("LibreChatService", namespace, "search")
    assert svc is not None
    assert not svc["metadata"].get("finalizers"), "no finalizer: there is no external cleanup"

    kube.delete("LibreChatService", namespace, "search")

    wait_until(lambda: not _children(kube, namespace), 60, "the garbage collector")
    wait_until(lambda: not kube.list("Pod", namespace, "librechat.io/service=search"), 60, "pods")


def test_service_pods_run_where_pod_security_restricted_is_enforced(
    kube: Kube, operator: OperatorProcess, namespace: str
) -> None:
    """The API server's Pod Security admission refuses, at pod creation, any pod of the
    Deployment that breaks `restricted`: Running pods and Ready show that none did."""
    kube.request(
        "PATCH",
        kube.path("Namespace", None, namespace),
        {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}},
        content_type="application/merge-patch+json",
    )
    kube.apply(_service(namespace, minReplicas=2))
    wait_until(lambda: len(_running(kube, namespace)) == 2, 60, "2 Running pods")
    wait_until(lambda: _ready(kube, namespace), 60, "status Ready")
    refused = [
        e["message"]
        for e in kube.request("GET", kube.path("Event", namespace))["items"]
        if e["reason"] == "FailedCreate"
    ]
    assert refused == []


def test_a_spec_the_api_server_refuses_is_reported_not_silent(
    kube: Kube, operator: OperatorProcess, namespace: str
) -> None:
    """The CRD lets a memory request above its limit through; the Deployment's validation does
    not (422): the operator gives up on that spec with a condition and a Warning Event, and a
    fixed spec reconciles again."""
    too_much = {"requests": {"cpu": "100m", "memory": "1Gi"}, "limits": {"memory": "512Mi"}}
    kube.apply(_service(namespace, resources=too_much))
    reported = wait_until(
        lambda: (c := _condition(kube.get("LibreChatService", namespace, "search"), "Reconciled"))
        and c["status"] == "False"
        and c,
        30, "the Reconciled condition False",
    )  # fmt: skip
    assert reported["reason"] == "PermanentError"
    assert "must be less than or equal to memory limit" in reported["message"], reported
    events = kube.request(
        "GET", kube.path("Event", namespace), query={"fieldSelector": "involvedObject.name=search"}
    )["items"]
    warnings = [e for e in events if e["reason"] == "PermanentError"]
    assert warnings
    assert warnings[0]["type"] == "Warning"
    assert "must be less than or equal to memory limit" in warnings[0]["message"]

    kube.apply(_service(namespace))  # fixed
    wait_until(lambda: _ready(kube, namespace), 60, "status Ready")
    wait_until(
        lambda: (_condition(kube.get("LibreChatService", namespace, "search"), "Reconciled") or {})
        .get("status") == "True",
        30, "Reconciled True again",
    )  # fmt: skip

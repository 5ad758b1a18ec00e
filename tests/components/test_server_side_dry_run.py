"""What the Pulumi programs render for Kubernetes is accepted by a real API server.

Every rendered object (namespaces, network policies, storage class, services, the operator's
CRDs, RBAC and Deployment, the region's LibreChat resource) is applied to the local platform's
API server with server-side dry-run, so schema validation (the CRDs' included) and admission run
for real. Pods built from the rendered Deployments are dry-run into their namespaces too, where
Pod Security ``restricted`` is enforced.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from components.platform import rag_migration, rendered_objects
from k8s_operator import crds
from k8s_operator.images import IMAGES
from k8s_operator.kube import Kube, KubeError
from tests.conftest import PlatformSession

from .planning import edge_for

pytestmark = pytest.mark.e2e

KINDS_FIRST = ("Namespace", "CustomResourceDefinition", "ServiceAccount")
"""Stored for real: other objects need them to exist (a pod's service account is checked)."""


@pytest.fixture(scope="module")
def kube(platform_session: PlatformSession) -> Iterator[Kube]:
    """A client; namespaces the module creates are deleted once it is done (not between tests:
    a namespace being deleted refuses new content)."""
    platform = platform_session.platform
    platform.up(3)
    kube = Kube.connect(field_manager="pytest", kubeconfig=str(platform.layout.kubeconfig))
    before = {n["metadata"]["name"] for n in kube.list("Namespace", None)}
    yield kube
    for ns in kube.list("Namespace", None):
        if ns["metadata"]["name"] not in before:
            kube.delete("Namespace", None, ns["metadata"]["name"])


def _established(kube: Kube) -> None:
    deadline = time.monotonic() + 30
    for crd in crds.definitions():
        while True:
            live = kube.get("CustomResourceDefinition", None, crd["metadata"]["name"]) or {}
            conditions = (live.get("status") or {}).get("conditions") or []
            if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                break
            assert time.monotonic() < deadline, "CRDs not established"
            time.sleep(0.2)


def _pod_of(deployment: dict[str, Any]) -> dict[str, Any]:
    template = deployment["spec"]["template"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{deployment['metadata']['name']}-dry-run",
            "namespace": deployment["metadata"]["namespace"],
            "labels": template["metadata"].get("labels", {}),
        },
        "spec": template["spec"],
    }


@pytest.mark.parametrize("kind", ["laptop", "staging", "production"])
def test_rendered_objects_pass_validation_and_admission(kube: Kube, kind: str) -> None:
    objects = rendered_objects(
        kind=kind,
        region="local" if kind == "laptop" else "eu-west-1",
        image_tag="v0.8.8-rc1",
        labels={"librechat.io/environment": kind},
        kms_key_arn=None if kind == "laptop" else "arn:aws:kms:eu-west-1:111122223333:key/test",
        edge=edge_for(kind),
    )
    objects.append(rag_migration(IMAGES, labels={}))
    for kind in KINDS_FIRST:
        for obj in objects:
            if obj["kind"] == kind:
                kube.apply(obj)
    _established(kube)

    rejected = []
    for obj in objects:
        if obj["kind"] in KINDS_FIRST:
            continue
        try:
            kube.apply(obj, dry_run=True)
        except KubeError as exc:
            rejected.append(f"{obj['kind']} {obj['metadata']['name']}: {exc.reason}")
    for deployment in (o for o in objects if o["kind"] in ("Deployment", "Job")):
        namespace = kube.get("Namespace", None, deployment["metadata"]["namespace"])
        assert namespace is not None
        labels = namespace["metadata"].get("labels", {})
        assert labels.get("pod-security.kubernetes.io/enforce") == "restricted"
        try:
            kube.request(
                "POST",
                kube.path("Pod", deployment["metadata"]["namespace"]),
                _pod_of(deployment),
                query={"dryRun": "All"},
            )
        except KubeError as exc:
            rejected.append(f"pod of {deployment['metadata']['name']}: {exc.reason}")
    assert not rejected, "\n".join(rejected)
    assert sum(o["kind"] == "LibreChat" for o in objects) == 1


def test_a_privileged_pod_is_refused_in_the_rendered_namespaces(kube: Kube) -> None:
    """The check above can fail: the same dry-run refuses a pod that breaks ``restricted``."""
    objects = rendered_objects(
        kind="laptop", region="local", image_tag="v0.8.8-rc1", labels={}, kms_key_arn=None
    )
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    for kind in KINDS_FIRST:
        for obj in objects:
            if obj["kind"] == kind:
                kube.apply(obj)
    pod = _pod_of(deployment)
    pod["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    with pytest.raises(KubeError) as caught:
        kube.request(
            "POST", kube.path("Pod", pod["metadata"]["namespace"]), pod, query={"dryRun": "All"}
        )
    assert caught.value.status == 403
    assert "violates PodSecurity" in caught.value.reason

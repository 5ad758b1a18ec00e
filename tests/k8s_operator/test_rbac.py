"""The operator's least-privilege RBAC is enough: it runs as its own service account."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from k8s_operator import chaos_rights, crds, deploy
from k8s_operator.kube import Kube, KubeError
from localplatform import kubeconfig
from localplatform.cluster import API_SERVER
from tests.conftest import PlatformSession
from tests.k8s_operator.conftest import OperatorProcess
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

Obj = dict[str, Any]


@pytest.fixture
def operator_as_service_account(
    kube: Kube, platform_session: PlatformSession, tmp_path: Path
) -> Iterator[OperatorProcess]:
    for obj in deploy.rbac():
        kube.apply(obj)
    token = kube.request(
        "POST",
        kube.path("ServiceAccount", deploy.NAMESPACE, deploy.NAME) + "/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}},
    )["status"]["token"]
    path = tmp_path / "operator.kubeconfig"
    ca = platform_session.platform.layout.pki.ca_cert
    kubeconfig.write(path, server=API_SERVER, ca_file=ca, token=token)
    proc = OperatorProcess(path, tmp_path / "operator.log")
    proc.start()
    yield proc
    proc.stop()


def _ready(obj: dict[str, Any] | None) -> bool:
    conditions = ((obj or {}).get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def test_operator_converges_everything_with_only_its_rbac(
    kube: Kube, operator_as_service_account: OperatorProcess, namespace: str
) -> None:
    kube.apply(
        {
            "apiVersion": crds.API_VERSION,
            "kind": "LibreChat",
            "metadata": {"name": "rbac", "namespace": namespace},
            "spec": {
                "version": "v0.8.8",
                "secretsRef": {"name": "rbac-secrets"},
                "redis": {"urlSecretRef": {"name": "rbac-stores", "key": "REDIS_URI"}},
                "services": [{"name": "ai-orchestrator"}],
            },
        }
    )
    kube.apply(
        {
            "apiVersion": crds.API_VERSION,
            "kind": "ChaosSchedule",
            "metadata": {"name": "kill", "namespace": namespace},
            "spec": {
                "schedule": "@daily",
                "experiment": "ai-gateway-pod-kill",
                "image": "librechat-ops:0.1.0",
                "targetSelector": {"matchLabels": {"librechat.io/service": "rbac-ai-orchestrator"}},
            },
        }
    )
    wait_until(lambda: _ready(kube.get("LibreChat", namespace, "rbac")), 90, "platform Ready")
    wait_until(lambda: kube.get("CronJob", namespace, "chaos-kill"), 30, "the chaos CronJob")
    assert kube.get("RoleBinding", namespace, "chaos-kill") is not None
    log = operator_as_service_account.log.read_text()
    denied = f'User "system:serviceaccount:{deploy.NAMESPACE}:{deploy.NAME}" cannot'
    assert denied not in log, operator_as_service_account.tail()


def _schedule(namespace: str, experiment: str, image: str = "librechat-ops:0.1.0") -> Obj:
    return {
        "apiVersion": crds.API_VERSION,
        "kind": "ChaosSchedule",
        "metadata": {"name": "drill", "namespace": namespace},
        "spec": {
            "schedule": "@daily",
            "experiment": experiment,
            "image": image,
            "targetSelector": {"matchLabels": {"librechat.io/service": "x"}},
        },
    }


def _binding(namespace: str, name: str, role: str) -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}],
    }


def test_the_operator_may_bind_only_the_chaos_experiments_roles(
    kube: Kube, operator_as_service_account: OperatorProcess, namespace: str
) -> None:
    """RBAC alone would let the operator bind its own ClusterRole (it holds every right in it);
    the admission policy `operator install` applies refuses that, by the API server."""
    as_operator = Kube.connect(
        field_manager="pytest-as-operator", kubeconfig=str(operator_as_service_account.kubeconfig)
    )
    for role in (deploy.NAME, "edit", "admin"):
        with pytest.raises(KubeError) as refused:
            as_operator.apply(_binding(namespace, f"grab-{role}", role))
        assert refused.value.status in (403, 422), refused.value
        assert kube.get("RoleBinding", namespace, f"grab-{role}") is None
        if role == deploy.NAME:  # rights it holds: RBAC allows, the policy refuses
            assert "may bind only the chaos experiments' ClusterRoles" in str(refused.value)
    allowed = chaos_rights.role_name("ai-gateway-pod-kill")
    as_operator.apply(_binding(namespace, "chaos", allowed))
    assert kube.get("RoleBinding", namespace, "chaos") is not None


def test_each_experiment_gets_its_own_rights_and_no_more(
    kube: Kube, operator_as_service_account: OperatorProcess, namespace: str
) -> None:
    kube.apply(_schedule(namespace, "ai-gateway-pod-kill"))
    binding = wait_until(
        lambda: kube.get("RoleBinding", namespace, "chaos-drill"), 30, "the run's RoleBinding"
    )
    assert binding["roleRef"]["name"] == "librechat-chaos-ai-gateway-pod-kill"
    run = f"system:serviceaccount:{namespace}:chaos-drill"
    assert _can(kube, run, namespace, "delete", "pods")
    for verb, resource, group in (
        ("patch", "deployments", "apps"),
        ("delete", "deployments", "apps"),
        ("create", "networkpolicies", "networking.k8s.io"),
        ("get", "secrets", ""),
        ("create", "pods", ""),
    ):
        assert not _can(kube, run, namespace, verb, resource, group), (verb, resource)

    # An experiment that acts on no Kubernetes object: its binding goes, and its pods get no token.
    kube.apply(_schedule(namespace, "llm-latency"))
    wait_until(
        lambda: kube.get("RoleBinding", namespace, "chaos-drill") is None, 30, "the binding gone"
    )
    cron = wait_until(
        lambda: _cron_for(kube, namespace, "llm-latency"), 30, "the CronJob for llm-latency"
    )
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert not _can(kube, run, namespace, "delete", "pods")


def test_a_schedule_with_an_image_not_allowed_is_rejected_and_never_runs(
    kube: Kube, operator_as_service_account: OperatorProcess, namespace: str
) -> None:
    kube.apply(_schedule(namespace, "ai-gateway-pod-kill"))
    wait_until(lambda: kube.get("CronJob", namespace, "chaos-drill"), 30, "the CronJob")
    kube.apply(_schedule(namespace, "ai-gateway-pod-kill", image="docker.io/someone/miner:1"))
    status = wait_until(
        lambda: _status_if(kube, namespace, "rejected"), 30, "rejected in the schedule's status"
    )
    assert "docker.io/someone/miner:1 is not allowed" in status["guardDetail"]
    assert "librechat-ops" in status["guardDetail"]
    cron = wait_until(
        lambda: (c := kube.get("CronJob", namespace, "chaos-drill")) and c["spec"]["suspend"] and c,
        30, "the CronJob suspended",
    )  # fmt: skip
    container = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "librechat-ops:0.1.0"  # the refused image never reached it
    events = kube.request(
        "GET", kube.path("Event", namespace), query={"fieldSelector": "involvedObject.name=drill"}
    )["items"]
    assert any(e["type"] == "Warning" and "not allowed" in e["message"] for e in events), events


def _cron_for(kube: Kube, namespace: str, experiment: str) -> Obj | None:
    cron = kube.get("CronJob", namespace, "chaos-drill")
    if cron is None:
        return None
    container = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    return cron if container["command"][-1] == f"/experiments/{experiment}.json" else None


def _status_if(kube: Kube, namespace: str, verdict: str) -> Obj | None:
    status = (kube.get("ChaosSchedule", namespace, "drill") or {}).get("status") or {}
    return status if status.get("guard") == verdict else None


def _can(kube: Kube, user: str, namespace: str, verb: str, resource: str, group: str = "") -> bool:
    """The API server's own answer (a SubjectAccessReview) to: may ``user`` do this here?"""
    review = kube.request(
        "POST",
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": user,
                "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"],
                "resourceAttributes": {
                    "namespace": namespace, "verb": verb, "resource": resource, "group": group,
                },
            },
        },
    )  # fmt: skip
    return bool(review["status"]["allowed"])

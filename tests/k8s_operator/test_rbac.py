"""The operator's least-privilege RBAC is enough: it runs as its own service account."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from k8s_operator import crds, deploy
from k8s_operator.kube import Kube
from localplatform import kubeconfig
from localplatform.cluster import API_SERVER
from tests.conftest import PlatformSession
from tests.k8s_operator.conftest import OperatorProcess
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


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
                "services": [{"name": "search"}],
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
                "targetSelector": {"matchLabels": {"librechat.io/service": "rbac-search"}},
            },
        }
    )
    wait_until(lambda: _ready(kube.get("LibreChat", namespace, "rbac")), 90, "platform Ready")
    wait_until(lambda: kube.get("CronJob", namespace, "chaos-kill"), 30, "the chaos CronJob")
    assert kube.get("RoleBinding", namespace, "chaos-kill") is not None
    log = operator_as_service_account.log.read_text()
    denied = f'User "system:serviceaccount:{deploy.NAMESPACE}:{deploy.NAME}" cannot'
    assert denied not in log, operator_as_service_account.tail()

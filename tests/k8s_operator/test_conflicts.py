"""A 409 conflict from the API server is retried within seconds, not after kopf's minute."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from k8s_operator import crds
from k8s_operator.kube import Kube
from tests.conftest import PlatformSession
from tests.k8s_operator.conftest import OperatorProcess
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def conflicted_operator(
    kube: Kube, platform_session: PlatformSession, tmp_path: Path
) -> Iterator[OperatorProcess]:
    proc = OperatorProcess(
        platform_session.platform.layout.kubeconfig,
        tmp_path / "operator.log",
        env={"LIBRECHAT_OPERATOR_INJECT_CONFLICTS": "3"},
    )
    proc.start()
    yield proc
    proc.stop()


def test_injected_conflicts_are_retried_within_seconds(
    kube: Kube, conflicted_operator: OperatorProcess, namespace: str
) -> None:
    def service(level: str) -> dict[str, Any]:
        return {
            "apiVersion": crds.API_VERSION,
            "kind": "LibreChatService",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {"image": "registry.librechat.ai/platform/web:v1", "config": {"LEVEL": level}},
        }

    kube.apply(service("info"))
    wait_until(lambda: kube.get("Deployment", namespace, "web"), 30, "the Deployment")
    kube.apply(service("debug"))  # updates existing children: the injected 409s hit here

    # Bounded well below kopf's default retry after 60 s: a conflict must not cost a minute.
    def updated() -> bool:
        cm = kube.get("ConfigMap", namespace, "web-config") or {}
        return cm.get("data") == {"LEVEL": "debug"}

    wait_until(updated, 30, "the ConfigMap update despite conflicts")
    log = conflicted_operator.log.read_text()
    assert log.count(" 409 ") >= 3, conflicted_operator.tail()
    assert "Retrying" in log

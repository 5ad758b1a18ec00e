"""Workloads on the platform: Deployments get Running pods on kwok nodes; Pod Security admission
enforces ``restricted``; Prometheus scrapes the platform and whatever registers as a target."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from localplatform import prometheus
from localplatform.cluster import LocalPlatform
from tests.prometheus_server import MetricsTarget

pytestmark = pytest.mark.e2e


@pytest.fixture
def core(local_platform: LocalPlatform) -> client.CoreV1Api:
    api_client = config.new_client_from_config(config_file=str(local_platform.layout.kubeconfig))
    return client.CoreV1Api(api_client)


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.25)


def _container(**extra: Any) -> dict[str, Any]:
    return {"name": "app", "image": "ghcr.io/danny-avila/librechat-api:v0.8.1", **extra}


def test_deployment_pods_run_on_kwok_nodes(
    local_platform: LocalPlatform, namespace: str, core: client.CoreV1Api
) -> None:
    apps = client.AppsV1Api(core.api_client)
    body = {
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 12,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [_container()]},
            },
        },
    }
    apps.create_namespaced_deployment(namespace, body)

    def all_running() -> bool:
        pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
        return len(pods) == 12 and all(p.status.phase == "Running" for p in pods)

    _wait(all_running, 60, "12 pods Running")
    pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
    nodes = {p.spec.node_name for p in pods}
    assert nodes <= {"kwok-node-0", "kwok-node-1", "kwok-node-2"}
    node_taints = {n.metadata.name: n.spec.taints for n in core.list_node().items}
    assert len(nodes) >= 2, f"the scheduler should spread pods over nodes; taints: {node_taints}"
    assert all(p.status.pod_ip for p in pods)
    _wait(
        lambda: (
            (
                apps.read_namespaced_deployment(
                    name="web", namespace=namespace
                ).status.ready_replicas
                or 0
            )
            == 12
        ),
        30,
        "the Deployment to report 12 ready replicas",
    )


def test_restricted_pod_security_rejects_a_privileged_pod(
    namespace: str, core: client.CoreV1Api
) -> None:
    core.patch_namespace(
        namespace, {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}
    )
    privileged = {
        "metadata": {"name": "privileged"},
        "spec": {"containers": [_container(securityContext={"privileged": True})]},
    }
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod(namespace, privileged)
    assert caught.value.status == 403
    assert "violates PodSecurity" in caught.value.body
    assert "restricted" in caught.value.body

    compliant = {
        "metadata": {"name": "compliant"},
        "spec": {
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                _container(
                    securityContext={
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                        "runAsUser": 1000,
                    }
                )
            ],
        },
    }
    created = core.create_namespaced_pod(namespace, compliant)
    assert created.metadata.name == "compliant"


def _query(expr: str) -> list[dict[str, Any]]:
    url = f"{prometheus.url()}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        result: list[dict[str, Any]] = json.load(resp)["data"]["result"]
    return result


@pytest.fixture
def metrics_server() -> Iterator[int]:
    with MetricsTarget(
        lambda _seconds: "# TYPE librechat_test_up gauge\nlibrechat_test_up 1\n"
    ) as t:
        yield int(t.address.rsplit(":", 1)[1])


@pytest.mark.slow
def test_prometheus_scrapes_the_platform_and_registered_targets(
    local_platform: LocalPlatform, metrics_server: int
) -> None:
    target = local_platform.layout.prometheus_targets / "pytest.json"
    target.write_text(json.dumps([{"targets": [f"127.0.0.1:{metrics_server}"]}]))
    try:

        def scraped(expr: str) -> Callable[[], bool]:
            return lambda: any(r["value"][1] == "1" for r in _query(expr))

        _wait(scraped('up{job="kube-apiserver"}'), 45, "the API server to be scraped")
        _wait(scraped('up{job="kwok"}'), 45, "kwok to be scraped")
        _wait(scraped("librechat_test_up"), 45, "the registered target to be scraped")
    finally:
        target.unlink()

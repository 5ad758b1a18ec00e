"""A ``LibreChat`` becomes its API plus the inventory services; upgrades across v0.8.8-rc1 are a
cold hand-off (old and new releases never run together on one Redis)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from k8s_operator import crds, images
from k8s_operator.inventory import GATEWAY_CONFIG_MAP, INVENTORY
from k8s_operator.kube import Kube
from k8s_operator.platform import crosses_redis_boundary, version_key
from tests.k8s_operator.conftest import OperatorProcess
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


def _platform(namespace: str, version: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": crds.API_VERSION,
        "kind": "LibreChat",
        "metadata": {"name": "chat", "namespace": namespace},
        "spec": {
            "version": version,
            "secretsRef": {"name": "chat-secrets"},
            "redis": {"urlSecretRef": {"name": "chat-stores", "key": "REDIS_URI"}},
            **spec,
        },
    }


def _ready(kube: Kube, namespace: str, name: str = "chat") -> bool:
    lc = kube.get("LibreChat", namespace, name) or {}
    conditions = (lc.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def _wait_ready(kube: Kube, namespace: str, timeout: float, what: str) -> None:
    """Wait for the platform's Ready; when it does not come, print why (its status, each
    service's Ready condition, the pods not Running and the scheduler's complaints)."""
    try:
        wait_until(lambda: _ready(kube, namespace), timeout, what)
    except BaseException:
        lc = kube.get("LibreChat", namespace, "chat") or {}
        print(f"\nplatform status: {lc.get('status')}")
        for svc in kube.list("LibreChatService", namespace):
            ready = [
                (c.get("status"), c.get("reason"), c.get("message"))
                for c in (svc.get("status") or {}).get("conditions") or []
                if c.get("type") == "Ready"
            ]
            print(f"service {svc['metadata']['name']}: {ready}")
        for pod in kube.list("Pod", namespace):
            if pod["status"].get("phase") != "Running":
                print(
                    f"pod {pod['metadata']['name']}: {pod['status'].get('phase')} "
                    f"on {pod['spec'].get('nodeName')} {pod['status'].get('conditions')}"
                )
        for event in kube.request("GET", f"/api/v1/namespaces/{namespace}/events")["items"]:
            if event.get("type") == "Warning":
                print(
                    f"event {event['involvedObject']['name']}: {event.get('reason')} "
                    f"{event.get('message')}"
                )
        raise


def _service_names(kube: Kube, namespace: str) -> set[str]:
    return {s["metadata"]["name"] for s in kube.list("LibreChatService", namespace)}


def test_version_order_and_redis_boundary() -> None:
    assert version_key("v0.8.8-rc1") < version_key("v0.8.8") < version_key("v0.8.10")
    assert version_key("v0.8.7") < version_key("v0.8.8-rc1") < version_key("v0.8.8-rc2")
    assert crosses_redis_boundary("v0.8.7", "v0.8.8-rc1")
    assert crosses_redis_boundary("v0.8.8", "v0.7.9")
    assert not crosses_redis_boundary("v0.8.8-rc1", "v0.8.9")
    assert not crosses_redis_boundary("v0.7.0", "v0.8.7")


def test_platform_runs_api_and_inventory_and_becomes_ready(
    kube: Kube, operator: OperatorProcess, namespace: str
) -> None:
    mirror = "mirror.example.com:5000/tei:cpu-1.8"
    role = "arn:aws:iam::123456789012:role/librechat-files"
    kube.apply(
        _platform(
            namespace,
            "v0.8.8",
            images={"text-embeddings-inference": mirror},
            configRef={"name": "chat-config"},
            files={"s3": {"bucket": "chat-files", "region": "eu-west-1", "roleArn": role}},
        )
    )
    expected = {"chat-api"} | {f"chat-{s.name}" for s in INVENTORY}
    wait_until(lambda: _service_names(kube, namespace) == expected, 60, "8 services")
    _wait_ready(kube, namespace, 120, "the platform to be Ready")

    lc = kube.get("LibreChat", namespace, "chat")
    assert lc is not None
    assert lc["status"]["services"] == len(INVENTORY) + 1 == 8
    assert lc["status"]["readyServices"] == 8
    api = kube.get("Deployment", namespace, "chat-api")
    assert api is not None
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/danny-avila/librechat-api:v0.8.8"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "writable-0", "mountPath": "/app/uploads"} in container["volumeMounts"]

    # A route pool is LibreChat with the API's settings; the others run their table's image,
    # with their arguments, files and writable paths.
    pool = kube.get("Deployment", namespace, "chat-streaming")
    assert pool is not None
    (pool_container,) = pool["spec"]["template"]["spec"]["containers"]
    assert pool_container["image"] == "ghcr.io/danny-avila/librechat-api:v0.8.8"
    assert any(e["name"] == "REDIS_URI" for e in pool_container["env"])
    settings = kube.get("ConfigMap", namespace, "chat-streaming-config")
    assert settings is not None
    assert settings["data"]["CONFIG_PATH"] == "/etc/librechat/librechat.yaml"
    assert settings["data"]["AWS_BUCKET_NAME"] == "chat-files"
    assert settings["data"]["RAG_API_URL"] == "http://chat-ai-orchestrator:8000"
    assert "AWS_ACCESS_KEY_ID" not in settings["data"]
    account = kube.get("ServiceAccount", namespace, "chat-streaming")
    assert account is not None
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": role}
    assert {"name": "config-0", "mountPath": "/etc/librechat", "readOnly": True} in pool_container[
        "volumeMounts"
    ]
    gateway_pods = kube.get("Deployment", namespace, "chat-ai-gateway")
    assert gateway_pods is not None
    pod = gateway_pods["spec"]["template"]["spec"]
    (gw,) = pod["containers"]
    assert gw["image"] == images.IMAGES["litellm"].ref
    assert gw["args"] == ["--config", "/etc/litellm/config.yaml", "--port", "4000"]
    assert gw["readinessProbe"]["httpGet"]["path"] == "/health/liveliness"
    mounted = {v["name"]: v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v}
    assert mounted == {"config-0": GATEWAY_CONFIG_MAP}
    assert {"name": "config-0", "mountPath": "/etc/litellm", "readOnly": True} in gw["volumeMounts"]
    embedding = kube.get("Deployment", namespace, "chat-vector-embedding")
    assert embedding is not None
    assert embedding["spec"]["template"]["spec"]["containers"][0]["image"] == mirror
    assert {
        "name": "REDIS_URI",
        "valueFrom": {"secretKeyRef": {"name": "chat-stores", "key": "REDIS_URI"}},
    } in container["env"]
    gateway = kube.get("LibreChatService", namespace, "chat-ai-gateway")
    assert gateway is not None
    assert (gateway["spec"]["minReplicas"], gateway["spec"]["maxReplicas"]) == (10, 200)

    # Narrowing the service list prunes what is no longer wanted.
    kept = [{"name": "ai-orchestrator"}, {"name": "streaming"}]
    kube.apply(_platform(namespace, "v0.8.8", services=kept))
    wait_until(
        lambda: (
            _service_names(kube, namespace)
            == {"chat-api", "chat-ai-orchestrator", "chat-streaming"}
        ),
        60,
        "the services to be pruned",
    )


def test_upgrade_across_the_redis_boundary_is_a_cold_hand_off(
    kube: Kube, operator: OperatorProcess, namespace: str
) -> None:
    pool = [{"name": "streaming", "minReplicas": 1, "maxReplicas": 2}]
    kube.apply(_platform(namespace, "v0.8.7", services=pool))
    _wait_ready(kube, namespace, 90, "the old release to be Ready")
    librechat = "librechat.io/service in (chat-api,chat-streaming)"

    seen: list[set[str]] = []
    stop = threading.Event()

    def watch_images() -> None:
        while not stop.is_set():
            pods = kube.list("Pod", namespace, librechat)
            seen.append({p["spec"]["containers"][0]["image"].rsplit(":", 1)[1] for p in pods})
            stop.wait(0.05)

    watcher = threading.Thread(target=watch_images)
    watcher.start()
    try:
        kube.apply(_platform(namespace, "v0.8.8", services=pool))

        def upgraded() -> bool:
            lc = kube.get("LibreChat", namespace, "chat") or {}
            running = (lc.get("status") or {}).get("runningVersion")
            pods = kube.list("Pod", namespace, librechat)
            tags = {p["spec"]["containers"][0]["image"].rsplit(":", 1)[1] for p in pods}
            return running == "v0.8.8" and tags == {"v0.8.8"} and len(pods) == 3

        wait_until(upgraded, 120, "the new release to run")
    finally:
        stop.set()
        watcher.join()
    assert any(s == {"v0.8.7"} for s in seen), "the watcher saw the old release"
    assert any(not s for s in seen), "a moment with no LibreChat pod at all: the cold hand-off"
    assert all(s != {"v0.8.7", "v0.8.8"} for s in seen), "old and new ran together on one Redis"
    _wait_ready(kube, namespace, 60, "Ready after the upgrade")

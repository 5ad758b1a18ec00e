"""up / status / down / recovery of the real local platform."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubernetes import client, config

from localplatform import process
from localplatform.cluster import COMPONENTS, LocalPlatform
from localplatform.errors import PlatformError
from localplatform.nodes import LIFECYCLE_TAINTS
from tests.conftest import PlatformSession

pytestmark = pytest.mark.e2e


def _pids(platform: LocalPlatform) -> dict[str, int]:
    return {row.name: row.pid for row in platform.status() if row.pid is not None}


def _configmap(platform: LocalPlatform, namespace: str, name: str) -> dict[str, object] | None:
    try:
        result: dict[str, object] = platform.api().request(
            "GET", f"/api/v1/namespaces/{namespace}/configmaps/{name}"
        )
    except PlatformError as exc:
        if "answered 404" in exc.message:
            return None
        raise
    return result


def _create_configmap(platform: LocalPlatform, namespace: str, name: str) -> None:
    body = {"metadata": {"name": name}, "data": {"kept": "yes"}}
    platform.api().request("POST", f"/api/v1/namespaces/{namespace}/configmaps", body)


def _lease_holders(platform: LocalPlatform) -> dict[str, str]:
    path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
    leases = platform.api().request("GET", path)["items"]
    return {
        lease["metadata"]["name"]: lease["spec"]["holderIdentity"]
        for lease in leases
        if lease["metadata"]["name"].startswith("kwok-node-")
    }


def test_status_shows_every_component_running(local_platform: LocalPlatform) -> None:
    rows = local_platform.status()
    assert [r.name for r in rows] == [c.name for c in COMPONENTS]
    assert all(r.state == "running" for r in rows), rows
    assert all(r.pid and Path(f"/proc/{r.pid}").exists() for r in rows)
    cli = subprocess.run(
        [sys.executable, "-m", "librechat_ops", "cluster", "status", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    assert '"state": "running"' in cli.stdout


def test_kubeconfig_works_with_the_official_client(local_platform: LocalPlatform) -> None:
    cli = subprocess.run(
        [sys.executable, "-m", "librechat_ops", "cluster", "kubeconfig"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    path = cli.stdout.strip()
    assert path == str(local_platform.layout.kubeconfig)
    api = client.CoreV1Api(config.new_client_from_config(config_file=path))
    nodes = api.list_node(label_selector="librechat-ops/kwok-node=true").items
    assert len(nodes) == 3
    zones = {n.metadata.labels["topology.kubernetes.io/zone"] for n in nodes}
    assert zones == {"zone-a", "zone-b", "zone-c"}
    for node in nodes:
        ready = [c for c in node.status.conditions if c.type == "Ready"]
        assert ready
        assert ready[0].status == "True"


def test_up_recovers_after_components_are_killed(
    local_platform: LocalPlatform, namespace: str
) -> None:
    _create_configmap(local_platform, namespace, "survivor")
    holders_before = _lease_holders(local_platform)
    before = _pids(local_platform)
    for name in ("kube-apiserver", "kwok"):
        os.kill(before[name], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
        process.handle_of(before[n]) for n in ("kube-apiserver", "kwok")
    ):
        time.sleep(0.05)
    states = {r.name: r.state for r in local_platform.status()}
    assert states["kube-apiserver"] == "stopped"
    assert states["kwok"] == "stopped"
    assert states["etcd"] == "running"

    result = local_platform.up(3)

    # Right when up returns, every node takes pods: the node lifecycle controller has lifted the
    # not-ready taint it set while kwok was gone (otherwise the next pods crowd onto one node).
    nodes = local_platform.api().request("GET", "/api/v1/nodes?labelSelector=type%3Dkwok")["items"]
    taints = {n["metadata"]["name"]: n["spec"].get("taints") or [] for n in nodes}
    assert len(taints) == 3, taints
    assert not any(t["key"] in LIFECYCLE_TAINTS for ts in taints.values() for t in ts), taints
    assert set(result.started) == {"kube-apiserver", "kwok"}
    after = _pids(local_platform)
    assert after["kube-apiserver"] != before["kube-apiserver"]
    assert after["etcd"] == before["etcd"]
    assert all(r.state == "running" for r in local_platform.status())
    assert _configmap(local_platform, namespace, "survivor") is not None
    # The new kwok holds every node lease at once (the old holder's leases were released), so
    # pods scheduled now run without waiting for the old leases to expire.
    deadline = time.monotonic() + 30
    holders_after = _lease_holders(local_platform)
    while time.monotonic() < deadline and (
        holders_after.keys() != holders_before.keys()
        or set(holders_after.values()) & set(holders_before.values())
    ):
        time.sleep(0.2)
        holders_after = _lease_holders(local_platform)
    assert holders_after.keys() == holders_before.keys()
    assert not set(holders_after.values()) & set(holders_before.values())


def test_down_keep_data_stops_everything_and_up_brings_objects_back(
    local_platform: LocalPlatform, namespace: str
) -> None:
    _create_configmap(local_platform, namespace, "kept")
    pids = _pids(local_platform)

    stopped = local_platform.down(keep_data=True)

    assert set(stopped) >= {c.name for c in COMPONENTS}
    assert not any(process.handle_of(pid) for pid in pids.values()), "orphan process left"
    assert all(r.state == "stopped" for r in local_platform.status())
    assert local_platform.layout.etcd_data.is_dir()

    local_platform.up(3)
    assert _configmap(local_platform, namespace, "kept") is not None


def test_down_removes_state_and_a_fresh_up_works(platform_session: PlatformSession) -> None:
    platform_session.require_owned()
    platform = platform_session.platform
    platform.up(3)
    pids = _pids(platform)

    platform.down()

    assert not platform.layout.root.exists()
    assert not any(process.handle_of(pid) for pid in pids.values())
    result = platform.up(3)
    assert set(result.started) == {c.name for c in COMPONENTS}
    assert len(result.nodes) == 3

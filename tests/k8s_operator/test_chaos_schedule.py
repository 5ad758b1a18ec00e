"""A ``ChaosSchedule`` becomes a CronJob whose runs the SLO guard suspends while the error budget
burns (read from the platform's real Prometheus)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from k8s_operator import crds
from k8s_operator.chaos import guard_state
from k8s_operator.kube import Kube
from k8s_operator.settings import OperatorSettings
from tests.k8s_operator.conftest import OperatorProcess
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


def _schedule(namespace: str, burn_query: str) -> dict[str, Any]:
    return {
        "apiVersion": crds.API_VERSION,
        "kind": "ChaosSchedule",
        "metadata": {"name": "gateway-kill", "namespace": namespace},
        "spec": {
            "schedule": "0 */6 * * *",
            "experiment": "ai-gateway-pod-kill",
            "image": "librechat-ops:0.1.0",
            "targetSelector": {"matchLabels": {"librechat.io/service": "ai-gateway"}},
            "sloGuard": {"query": burn_query, "maxBurnRate": 1.0},
        },
    }


def _cron(kube: Kube, namespace: str) -> dict[str, Any]:
    return kube.get("CronJob", namespace, "chaos-gateway-kill") or {}


def _guard(kube: Kube, namespace: str) -> str:
    schedule = kube.get("ChaosSchedule", namespace, "gateway-kill") or {}
    status = schedule.get("status") or {}
    return f"{status.get('guard', '')}: {status.get('guardDetail', '')}"


def test_schedule_becomes_a_guarded_cron_job(
    kube: Kube, operator: OperatorProcess, namespace: str
) -> None:
    kube.apply(_schedule(namespace, "vector(14.4)"))  # paging-level burn: skip chaos
    wait_until(lambda: _cron(kube, namespace).get("spec", {}).get("suspend") is True, 30, "suspend")
    wait_until(lambda: "burning" in _guard(kube, namespace), 30, "the guard's verdict in status")
    cron = _cron(kube, namespace)
    assert cron["spec"]["schedule"] == "0 */6 * * *"
    container = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][-1] == "/experiments/ai-gateway-pod-kill.json"
    assert "--rollback-strategy=always" in container["command"]  # rollbacks run even on failure
    assert "burning at 14.40x > 1.00x" in _guard(kube, namespace)

    kube.apply(_schedule(namespace, "vector(0.5)"))  # within budget: runs allowed
    wait_until(lambda: _cron(kube, namespace)["spec"]["suspend"] is False, 30, "resume")
    wait_until(lambda: _guard(kube, namespace).startswith("open"), 30, "the guard to open")

    # The job's pod passes Pod Security `restricted`.
    kube.request(
        "PATCH",
        kube.path("Namespace", None, namespace),
        {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}},
        content_type="application/merge-patch+json",
    )
    pod_spec = _cron(kube, namespace)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "job"}, "spec": pod_spec}
    kube.request("POST", kube.path("Pod", namespace), pod, query={"dryRun": "All"})


def test_guard_without_prometheus_skips_runs() -> None:
    with socket.socket() as sock:  # a loopback port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = OperatorSettings(prometheus_url=f"http://127.0.0.1:{port}")
    guard = guard_state({"sloGuard": {"query": "vector(0)"}}, settings)
    assert guard.suspend is True
    assert guard.verdict == "unknown"
    assert "Prometheus did not answer" in guard.detail
    assert guard_state({"suspend": True}, settings).verdict == "suspended"

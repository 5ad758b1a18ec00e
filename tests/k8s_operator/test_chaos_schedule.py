"""A ``ChaosSchedule`` becomes a CronJob whose runs the SLO guard suspends while the error budget
burns, or while the burn rate cannot be known, with the verdict in status and an Event per change.

The operator runs against the local platform and reads a real Prometheus of the test's (started
in a temporary directory) whose rules record the burn-rate series the guard reads, for the
environment ``chaos-e2e``: 14.4 for ``search``, 0.5 for ``file_operations``, and nothing for
``authentication``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from k8s_operator import crds
from k8s_operator.guard import guard_state
from k8s_operator.kube import Kube
from k8s_operator.settings import OperatorSettings
from slos import rules
from tests.conftest import PlatformSession
from tests.k8s_operator.conftest import OperatorProcess
from tests.prometheus_server import (
    PrometheusServer,
    free_port,
    needs_prometheus,
    running_prometheus,
)
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow, needs_prometheus]

ENV = "chaos-e2e"


def _burn_rule(journey: str, value: float) -> dict[str, Any]:
    labels = {"slo_env": ENV, "slo_journey": journey, "slo_objective": "availability"}
    return {"record": f"{rules.BURN}1h", "expr": f"vector({value})", "labels": labels}


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    group = {
        "name": ENV,
        "interval": "1s",
        "rules": [_burn_rule("search", 14.4), _burn_rule("file_operations", 0.5)],
    }
    with running_prometheus(
        tmp_path_factory.mktemp("chaos-prometheus"), rules={"groups": [group]}
    ) as server:
        wait_until(lambda: server.query(rules.burn_rate_query(ENV)), 30, "the burn-rate rules")
        yield server


@pytest.fixture(scope="module")
def guarded_operator(
    kube: Kube,
    platform_session: PlatformSession,
    prometheus: PrometheusServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    """The operator, its guards reading the test's Prometheus for ``chaos-e2e``."""
    log: Path = tmp_path_factory.mktemp("operator") / "operator.log"
    env = {"LIBRECHAT_PROMETHEUS_URL": prometheus.url, "LIBRECHAT_SLO_ENV": ENV}
    proc = OperatorProcess(platform_session.platform.layout.kubeconfig, log, env)
    proc.start()
    yield proc
    proc.stop()


def _schedule(namespace: str, journey: str) -> dict[str, Any]:
    return {
        "apiVersion": crds.API_VERSION,
        "kind": "ChaosSchedule",
        "metadata": {"name": "gateway-kill", "namespace": namespace},
        "spec": {
            "schedule": "0 */6 * * *",
            "experiment": "ai-gateway-pod-kill",
            "image": "librechat-ops:0.1.0",
            "targetSelector": {"matchLabels": {"librechat.io/service": "ai-gateway"}},
            "sloGuard": {"maxBurnRate": 1.0, "window": "1h", "journey": journey},
        },
    }


def _cron(kube: Kube, namespace: str) -> dict[str, Any]:
    return kube.get("CronJob", namespace, "chaos-gateway-kill") or {}


def _guard(kube: Kube, namespace: str) -> str:
    schedule = kube.get("ChaosSchedule", namespace, "gateway-kill") or {}
    status = schedule.get("status") or {}
    return f"{status.get('guard', '')}: {status.get('guardDetail', '')}"


def _event_reasons(kube: Kube, namespace: str) -> list[str]:
    events = kube.request(
        "GET",
        kube.path("Event", namespace),
        query={"fieldSelector": "involvedObject.name=gateway-kill"},
    )["items"]
    ordered = sorted(events, key=lambda e: e.get("eventTime") or e.get("firstTimestamp") or "")
    return [e["reason"] for e in ordered if e["involvedObject"]["kind"] == "ChaosSchedule"]


def test_schedule_becomes_a_guarded_cron_job(
    kube: Kube, guarded_operator: OperatorProcess, namespace: str
) -> None:
    kube.apply(_schedule(namespace, "search"))  # paging-level burn: skip chaos
    wait_until(lambda: _cron(kube, namespace).get("spec", {}).get("suspend") is True, 30, "suspend")
    wait_until(lambda: "burning" in _guard(kube, namespace), 30, "the guard's verdict in status")
    cron = _cron(kube, namespace)
    assert cron["spec"]["schedule"] == "0 */6 * * *"
    container = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][-1] == "/experiments/ai-gateway-pod-kill.json"
    assert "--rollback-strategy=always" in container["command"]  # rollbacks run even on failure
    assert "burning at 14.40x > 1.00x" in _guard(kube, namespace)
    wait_until(lambda: "GuardBurning" in _event_reasons(kube, namespace), 30, "an Event")

    kube.apply(_schedule(namespace, "file_operations"))  # within budget: runs allowed
    wait_until(lambda: _cron(kube, namespace)["spec"]["suspend"] is False, 30, "resume")
    wait_until(lambda: _guard(kube, namespace).startswith("open"), 30, "the guard to open")
    wait_until(lambda: "GuardOpen" in _event_reasons(kube, namespace), 30, "an Event")

    kube.apply(_schedule(namespace, "authentication"))  # no series: fail closed
    wait_until(lambda: _cron(kube, namespace)["spec"]["suspend"] is True, 30, "suspend")
    wait_until(lambda: _guard(kube, namespace).startswith("no-data"), 30, "no-data in status")
    wait_until(lambda: "GuardNoData" in _event_reasons(kube, namespace), 30, "an Event")
    assert _event_reasons(kube, namespace) == ["GuardBurning", "GuardOpen", "GuardNoData"]

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
    settings = OperatorSettings(prometheus_url=f"http://127.0.0.1:{free_port()}")
    guard = guard_state({"sloGuard": {}}, settings)
    assert guard.suspend is True
    assert guard.verdict == "unreachable"
    assert "no answer from" in guard.detail
    assert guard_state({"suspend": True}, settings).verdict == "suspended"

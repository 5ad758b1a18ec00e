"""Two operator replicas, one leader: the leader is SIGKILLed while it reconciles, the other takes
the Lease over and finishes, and the API server's own audit log shows that the two never wrote
at once.

Each replica runs as the Deployment runs it (``python -m k8s_operator``, leader election on) with
a ServiceAccount of its own (``op-a``, ``op-b``, bound to the operator's ClusterRole and Lease
Role), so the audit log names who made each write.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from k8s_operator import deploy
from k8s_operator.kube import Kube
from localplatform import kubeconfig
from localplatform.cluster import API_SERVER, LocalPlatform
from tests.conftest import PlatformSession
from tests.k8s_operator.conftest import OperatorProcess
from tests.k8s_operator.test_control_plane_faults import CHILDREN, ready_count, service
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SERVICES = 24
"""Services created at once; the leader is killed once a third of their Deployments exist."""
TAKEOVER_S = 15.0


def _account(kube: Kube, platform: LocalPlatform, name: str, path: Path) -> Path:
    """A ServiceAccount with the operator's rights; its kubeconfig at ``path``."""
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": deploy.NAMESPACE},
        }
    )
    kube.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"test-{name}"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": deploy.NAME,
            },
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": deploy.NAMESPACE}],
        }
    )
    token = kube.request(
        "POST",
        kube.path("ServiceAccount", deploy.NAMESPACE, name) + "/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}},
    )["status"]["token"]
    kubeconfig.write(path, server=API_SERVER, ca_file=platform.layout.pki.ca_cert, token=token)
    return path


@pytest.fixture
def replicas(
    kube: Kube, platform_session: PlatformSession, tmp_path: Path
) -> Iterator[dict[str, OperatorProcess]]:
    platform = platform_session.platform
    if not platform.layout.audit_log.exists():
        pytest.fail(
            "the API server writes no audit log: it was started before the audit flags; "
            "restart the platform (`librechat-ops cluster down`, then `cluster up`)"
        )
    for obj in deploy.rbac():
        kube.apply(obj)
    for obj in deploy.lease_rbac([deploy.NAME, "op-a", "op-b"]):
        kube.apply(obj)
    kube.delete("Lease", deploy.NAMESPACE, deploy.NAME)  # a previous run's holder
    procs = {
        name: OperatorProcess(
            _account(kube, platform, name, tmp_path / f"{name}.kubeconfig"),
            tmp_path / f"{name}.log",
            {"POD_NAME": name},
            elected=True,
        )
        for name in ("op-a", "op-b")
    }
    yield procs
    for proc in procs.values():
        proc.stop()
    for obj in deploy.lease_rbac([deploy.NAME]):
        kube.apply(obj)


def _holder(kube: Kube) -> str:
    lease = kube.get("Lease", deploy.NAMESPACE, deploy.NAME) or {}
    return str((lease.get("spec") or {}).get("holderIdentity") or "")


def _writes(audit: Path, since: datetime, user: str) -> list[tuple[datetime, str]]:
    """(time, what) of each write ``user`` made since ``since``, from the audit log."""
    found = []
    for line in audit.read_text(errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if (
            event.get("user", {}).get("username") != user
            or event.get("stage") != "ResponseComplete"
        ):
            continue
        at = datetime.fromisoformat(event["requestReceivedTimestamp"].replace("Z", "+00:00"))
        if at >= since:
            ref = event.get("objectRef", {})
            found.append((at, f"{event['verb']} {ref.get('resource')}/{ref.get('name', '')}"))
    return sorted(found)


def test_the_follower_takes_over_a_killed_leader_and_never_writes_alongside_it(
    kube: Kube,
    replicas: dict[str, OperatorProcess],
    platform_session: PlatformSession,
    namespace: str,
) -> None:
    started = datetime.now().astimezone()
    leader, follower = replicas["op-a"], replicas["op-b"]
    leader.start()
    wait_until(lambda: _holder(kube) == "op-a", 30, "op-a to hold the Lease")
    follower.start()  # a candidate: answers its liveness probe, writes nothing

    for index in range(SERVICES):
        kube.apply(service(namespace, index))
    wait_until(lambda: len(kube.list("Deployment", namespace)) >= SERVICES // 3, 60, "a third done")
    before = {
        d["metadata"]["name"]: d["metadata"]["uid"] for d in kube.list("Deployment", namespace)
    }
    leader.kill()
    killed = datetime.now().astimezone()
    assert len(before) < SERVICES, "the leader finished before it was killed: nothing to take over"

    wait_until(lambda: _holder(kube) == "op-b", 30, "op-b to take the Lease over")
    wait_until(lambda: ready_count(kube, namespace) == SERVICES, 180, "every service Ready")

    # Every service has exactly its children; none made before the kill was made again.
    for kind, each in CHILDREN.items():
        assert len(
            kube.list(kind, namespace, "app.kubernetes.io/managed-by=librechat-operator")
        ) == (each * SERVICES), kind
    after = {
        d["metadata"]["name"]: d["metadata"]["uid"] for d in kube.list("Deployment", namespace)
    }
    assert {name: after[name] for name in before} == before

    audit = platform_session.platform.layout.audit_log
    user = f"system:serviceaccount:{deploy.NAMESPACE}:"
    a_writes = _writes(audit, started, user + "op-a")
    b_writes = _writes(audit, started, user + "op-b")
    assert a_writes, "no write by the first leader"
    assert b_writes, "no write by the second"
    took = (b_writes[0][0] - killed).total_seconds()
    print(
        f"\nop-a wrote {len(a_writes)} times until it was killed with {len(before)}/{SERVICES} "
        f"Deployments made; op-b's first write ({b_writes[0][1]}) {took:.1f} s after the kill, "
        f"{len(b_writes)} writes in all"
    )
    assert a_writes[-1][0] < b_writes[0][0], "two writers at once"
    assert b_writes[0][1].startswith("update leases/"), b_writes[0]  # the take-over comes first
    assert took <= TAKEOVER_S

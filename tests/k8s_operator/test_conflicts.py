"""Another writer changes a service's status while the operator writes it: the operator's
conditions writes carry the version they were computed from, the API server answers 409 when the
other writer came first, and the operator reads again and redoes its write within seconds. Neither
writer's conditions are lost.

The other writer is real: a thread of this test, acting as a second controller would (an
auditor that keeps one condition of its own on the service, read-modify-write with the version
it read, as client-go's ``UpdateStatus`` does), as fast as the API server lets it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from k8s_operator import crds
from k8s_operator.kube import Kube, KubeError
from tests.k8s_operator.conftest import OperatorProcess
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

AUDITED = "example.com/Audited"


def _service(namespace: str, replicas: int, level: str) -> dict[str, Any]:
    return {
        "apiVersion": crds.API_VERSION,
        "kind": "LibreChatService",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "image": "registry.example/web:1",
            "minReplicas": replicas,
            "config": {"LEVEL": level},
        },
    }


class Auditor:
    """Sets its own condition on the service, with a counter in the message, until stopped."""

    def __init__(self, kube: Kube, namespace: str) -> None:
        self.kube = kube
        self.namespace = namespace
        self.written = 0
        """The counter of its last successful write."""
        self.conflicts = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopping.is_set():
            live = self.kube.get("LibreChatService", self.namespace, "web")
            assert live is not None
            conditions = (live.get("status") or {}).get("conditions") or []
            mine = {
                "type": AUDITED,
                "status": "True",
                "reason": "Audited",
                "message": f"audit {self.written + 1}",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
            try:
                self.kube.patch_status(
                    "LibreChatService",
                    self.namespace,
                    "web",
                    {"conditions": [*(c for c in conditions if c["type"] != AUDITED), mine]},
                    resource_version=live["metadata"]["resourceVersion"],
                )
            except KubeError as exc:
                if exc.status != 409:
                    raise
                self.conflicts += 1
                continue
            self.written += 1
            time.sleep(0.02)


def _conditions(kube: Kube, namespace: str) -> dict[str, dict[str, Any]]:
    live = kube.get("LibreChatService", namespace, "web") or {}
    return {c["type"]: c for c in (live.get("status") or {}).get("conditions") or []}


def _ready_at(kube: Kube, namespace: str, generation: int) -> bool:
    live = kube.get("LibreChatService", namespace, "web") or {}
    status = live.get("status") or {}
    ready = _conditions(kube, namespace).get("Ready", {})
    return status.get("observedGeneration") == generation and ready.get("status") == "True"


def test_a_concurrent_status_writer_meets_409s_and_neither_loses_its_conditions(
    kube: Kube, operator: OperatorProcess, namespace: str
) -> None:
    before = operator.metric("librechat_operator_api_conflicts")
    kube.apply(_service(namespace, 1, "info"))
    wait_until(lambda: _ready_at(kube, namespace, 1), 60, "the service Ready")

    auditor = Auditor(kube, namespace)
    auditor.thread.start()
    try:
        # Spec changes: each one makes the operator write the service's status several times
        # (generation, Ready flipping as the new pods come) while the auditor writes too.
        for generation, (replicas, level) in enumerate(
            [(2, "debug"), (3, "info"), (1, "warn"), (2, "info")], start=2
        ):
            kube.apply(_service(namespace, replicas, level))
            wait_until(
                lambda g=generation: _ready_at(kube, namespace, g), 60, f"generation {generation}"
            )
    finally:
        auditor.stopping.set()
        auditor.thread.join(timeout=30)
    conflicts = operator.metric("librechat_operator_api_conflicts") - before
    print(
        f"\nthe operator met {conflicts:.0f} conflicts, the auditor {auditor.conflicts}; "
        f"the auditor wrote {auditor.written} times"
    )
    assert conflicts >= 3, "the concurrent writer never made the operator meet a conflict"

    # One more spec change after the auditor's last write: the operator's status writes must carry
    # the auditor's newest condition over, not the one it saw before.
    last = f"audit {auditor.written}"
    kube.apply(_service(namespace, 1, "error"))
    wait_until(lambda: _ready_at(kube, namespace, 6), 60, "generation 6")
    conditions = _conditions(kube, namespace)
    assert conditions[AUDITED]["message"] == last, conditions  # the auditor's write kept
    assert {"Ready", "Progressing", "Degraded"} <= set(conditions), conditions

"""The status writer against the real API server: the first status records the handled
generation, a condition flip is written at once, roll-out progress waits and is coalesced, and
Deployment events never move the generation. kopf's view of "handled" follows that status.

No operator runs here: the writer is driven with Deployment bodies as the watch would deliver them,
and the API server's own counter of the service's resourceVersion tells how many writes happened.
"""

from __future__ import annotations

from typing import Any, cast

import kopf
import pytest

from k8s_operator import crds
from k8s_operator.diffbase import ObservedGenerationDiffBase
from k8s_operator.kube import Kube
from k8s_operator.statuses import StatusWriter
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


def _deployment(generation: int, **status: int) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": "search", "generation": generation},
        "status": {"observedGeneration": generation, **status},
    }


def _body(obj: dict[str, Any]) -> kopf.Body:
    return kopf.Body(cast(kopf.RawBody, obj))


def _conditions(obj: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in obj["status"]["conditions"]}


def _service(kube: Kube, namespace: str, replicas: int = 2) -> dict[str, Any]:
    body = {
        "apiVersion": crds.API_VERSION,
        "kind": "LibreChatService",
        "metadata": {"name": "search", "namespace": namespace},
        "spec": {
            "image": "ghcr.io/danny-avila/librechat-rag-api-dev-lite:v0.9.0",
            "minReplicas": replicas,
        },
    }
    kube.apply(body)
    live = kube.get("LibreChatService", namespace, "search")
    assert live is not None
    return live


def test_status_writes_are_coalesced_and_the_generation_is_the_handlers(
    kube: Kube, namespace: str
) -> None:
    owner = _service(kube, namespace)
    writer = StatusWriter(kube, delay=1.0)
    writer.start()
    try:
        _exercise(kube, namespace, owner, writer)
    finally:
        writer.stop()


def _live(kube: Kube, namespace: str) -> dict[str, Any]:
    live = kube.get("LibreChatService", namespace, "search")
    assert live is not None
    return live


def _exercise(kube: Kube, namespace: str, owner: dict[str, Any], writer: StatusWriter) -> None:
    # A Deployment event before the spec was handled writes nothing.
    writer.observed(owner, _deployment(1), gone=False)
    assert "status" not in (kube.get("LibreChatService", namespace, "search") or {})

    written = writer.handled(owner, _deployment(1))
    live = kube.get("LibreChatService", namespace, "search")
    assert live is not None
    assert live["status"]["observedGeneration"] == written["observedGeneration"] == 1
    assert _conditions(live) == {"Ready": "False", "Progressing": "True", "Degraded": "False"}
    version = live["metadata"]["resourceVersion"]

    # Progress only (replica counts): not written yet ...
    writer.observed(owner, _deployment(1, replicas=2, updatedReplicas=1), gone=False)
    writer.observed(owner, _deployment(1, replicas=2, updatedReplicas=2), gone=False)
    live = kube.get("LibreChatService", namespace, "search")
    assert live is not None
    assert live["metadata"]["resourceVersion"] == version
    # ... and when due (the writer's thread), the newest progress goes out in one write.
    wait_until(lambda: _live(kube, namespace)["status"]["replicas"] == 2, 10, "the progress")
    live = _live(kube, namespace)
    assert "2 updated" in live["status"]["conditions"][0]["message"]
    assert int(live["metadata"]["resourceVersion"]) > int(version)
    version = live["metadata"]["resourceVersion"]
    writer.flush((namespace, "search"))  # nothing pending: no write
    assert _live(kube, namespace)["metadata"]["resourceVersion"] == version

    # A condition flip (Ready) is written at once, and drops the progress pending before it.
    progress = _deployment(1, replicas=2, updatedReplicas=2, availableReplicas=1)
    writer.observed(owner, progress, gone=False)
    ready = _deployment(1, replicas=2, updatedReplicas=2, availableReplicas=2, readyReplicas=2)
    writer.observed(owner, ready, gone=False)
    live = kube.get("LibreChatService", namespace, "search")
    assert live is not None
    assert _conditions(live)["Ready"] == "True"
    assert live["status"]["availableReplicas"] == 2
    version = live["metadata"]["resourceVersion"]
    writer.flush((namespace, "search"))
    live = kube.get("LibreChatService", namespace, "search")
    assert live is not None
    assert live["metadata"]["resourceVersion"] == version

    # A new spec (generation 2) seen in an event does not move observedGeneration: only
    # handling it does.
    newer = _service(kube, namespace, replicas=3)
    assert newer["metadata"]["generation"] == 2
    writer.observed(newer, ready, gone=False)
    live = kube.get("LibreChatService", namespace, "search")
    assert live is not None
    assert live["status"]["observedGeneration"] == 1
    writer.handled(newer, _deployment(2, replicas=2, availableReplicas=2))
    live = kube.get("LibreChatService", namespace, "search")
    assert live is not None
    assert live["status"]["observedGeneration"] == 2
    assert _conditions(live)["Ready"] == "False"  # 2 of 3 wanted


def test_kopf_sees_a_service_as_handled_from_its_status(kube: Kube, namespace: str) -> None:
    storage = ObservedGenerationDiffBase(
        {"LibreChatService"}, fallback=kopf.AnnotationsDiffBaseStorage()
    )
    owner = _service(kube, namespace)
    assert storage.fetch(body=_body(owner)) is None  # never handled: kopf sees a creation

    StatusWriter(kube).handled(owner, _deployment(1))
    handled = _body(_live(kube, namespace))
    assert storage.fetch(body=handled) == storage.build(body=handled)  # nothing to do
    patch = kopf.Patch()
    storage.store(body=handled, patch=patch, essence=storage.build(body=handled))
    assert not patch  # no annotation written for this kind

    changed = _body(_service(kube, namespace, replicas=3))
    old = storage.fetch(body=changed)
    assert old is not None
    assert old["spec"] != changed["spec"]

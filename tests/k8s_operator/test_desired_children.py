"""The desired-children memory of the child events: what it returns is what the owner's spec
asks for, a new generation is computed afresh, and only the most recently used owners are kept."""

from __future__ import annotations

import threading
from typing import Any

from k8s_operator import crds
from k8s_operator.children import children, key
from k8s_operator.model import ServiceSpec
from k8s_operator.services import DesiredChildren


def _owner(
    uid: str, generation: int, image: str = "ghcr.io/danny-avila/librechat-dev:v0.8.0"
) -> dict[str, Any]:
    return {
        "apiVersion": crds.API_VERSION,
        "kind": "LibreChatService",
        "metadata": {"name": f"svc-{uid}", "namespace": "ns", "uid": uid, "generation": generation},
        "spec": {"image": image, "minReplicas": 2},
    }


def _fresh(owner: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {key(c): c for c in children(ServiceSpec.from_resource(owner))}


def test_the_children_are_the_specs_and_remembered_per_generation() -> None:
    memory = DesiredChildren()
    first = memory.of(_owner("a", 1))
    assert first == _fresh(_owner("a", 1))
    assert len(first) >= 5  # the Deployment, Service, ServiceAccount, PDB, NetworkPolicy, ...
    assert memory.of(_owner("a", 1)) is first  # the same generation: not computed again

    changed = _owner("a", 2, image="ghcr.io/danny-avila/librechat-dev:v0.8.1")
    second = memory.of(changed)
    assert second == _fresh(changed)
    images = {
        c["spec"]["template"]["spec"]["containers"][0]["image"]
        for c in second.values()
        if c["kind"] == "Deployment"
    }
    assert images == {"ghcr.io/danny-avila/librechat-dev:v0.8.1"}


def test_only_the_owners_used_last_are_kept() -> None:
    memory = DesiredChildren(size=2)
    a = memory.of(_owner("a", 1))
    memory.of(_owner("b", 1))
    assert memory.of(_owner("a", 1)) is a  # a used again: b is now the oldest
    memory.of(_owner("c", 1))  # evicts b
    assert memory.of(_owner("a", 1)) is a
    b = memory.of(_owner("b", 1))
    assert b == _fresh(_owner("b", 1))
    assert memory.of(_owner("b", 1)) is b


def test_threads_get_the_same_answer() -> None:
    memory = DesiredChildren(size=8)
    owners = [_owner(str(i % 12), 1) for i in range(240)]
    right: list[bool] = []  # a failed assert in a thread would not fail the test
    lock = threading.Lock()

    def work(part: list[dict[str, Any]]) -> None:
        for owner in part:
            same = memory.of(owner) == _fresh(owner)
            with lock:
                right.append(same)

    threads = [threading.Thread(target=work, args=(owners[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(right) == 240
    assert all(right)

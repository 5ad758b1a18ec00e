"""The child events' memories: the desired children (what the owner's spec asks for, computed
afresh for a new generation, only the owners used last kept) and the Deployment specs found
matching (forgotten when either generation moves)."""

from __future__ import annotations

import threading
from typing import Any

from k8s_operator import crds
from k8s_operator.children import children, key
from k8s_operator.model import ServiceSpec
from k8s_operator.services import DesiredChildren, MatchedSpecs


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


def _child(kind: str, uid: str, generation: int | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "svc-a", "namespace": "ns", "uid": uid}
    if generation is not None:
        meta["generation"] = generation
    return {"kind": kind, "metadata": meta}


def test_a_matched_spec_holds_while_neither_generation_moves() -> None:
    specs = MatchedSpecs()
    owner, deployment = _owner("a", 1), _child("Deployment", "d1", 4)
    assert not specs.matched(owner, deployment)
    specs.record(owner, deployment)
    assert specs.matched(owner, deployment)
    assert not specs.matched(owner, _child("Deployment", "d1", 5))  # its spec changed
    assert not specs.matched(_owner("a", 2), deployment)  # the owner wants something else
    assert not specs.matched(owner, _child("Deployment", "d2", 4))  # deleted and made again


def test_only_deployments_are_remembered() -> None:
    specs = MatchedSpecs()
    owner = _owner("a", 1)
    for child in (_child("ConfigMap", "c1", None), _child("NetworkPolicy", "n1", 1)):
        specs.record(owner, child)
        assert not specs.matched(owner, child)
    unversioned = _child("Deployment", "d1", None)
    specs.record(owner, unversioned)
    assert not specs.matched(owner, unversioned)


def test_matched_specs_keep_the_last_checked() -> None:
    specs = MatchedSpecs(size=2)
    owner = _owner("a", 1)
    first, second, third = (_child("Deployment", f"d{i}", 1) for i in range(3))
    specs.record(owner, first)
    specs.record(owner, second)
    specs.record(owner, first)  # checked again: now the newest
    specs.record(owner, third)  # evicts second
    assert specs.matched(owner, first)
    assert not specs.matched(owner, second)
    assert specs.matched(owner, third)

"""Converge one ``LibreChatService``: apply children that drifted, and compute its status (which
:mod:`.statuses` writes).

Idempotent by construction: each child is compared with what the operator wants and applied only
when it differs (server-side apply, so a restart mid-way simply continues); nothing is written
when nothing changed.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from .children import children, drifted, key, selector_string
from .kube import Kube, Obj
from .model import ServiceSpec


def converge(kube: Kube, body: Mapping[str, Any], *, compare: bool = True) -> Obj | None:
    """Apply every child that is missing or drifted; returns the Deployment as the server answered
    its apply (None when it was not applied).

    ``compare=False`` (the spec just changed) applies every child without reading it first:
    server-side apply is idempotent, so that is one request per child instead of two.
    """
    svc = ServiceSpec.from_resource(body)
    deployment = None
    for desired in children(svc):
        kind, name = key(desired)
        if not compare or drifted(kube.get(kind, svc.namespace, name), desired):
            answer = kube.apply(desired)
            if kind == "Deployment":
                deployment = answer
    return deployment


def condition(
    type_: str, ok: bool, *, reason: str, message: str, generation: int, previous: list[Obj]
) -> Obj:
    """One status condition; its transition time is kept while its status stays the same."""
    status = "True" if ok else "False"
    before = next((c for c in previous if c.get("type") == type_), None)
    if before and before.get("status") == status:
        since = before.get("lastTransitionTime")
    else:
        since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": since,
        "observedGeneration": generation,
    }


def status(
    body: Mapping[str, Any], deployment: Mapping[str, Any] | None, generation: int | None = None
) -> Obj:
    """The service's status from its Deployment: replicas, selector and conditions, as of the
    spec of ``generation`` (default: the body's own)."""
    svc = ServiceSpec.from_resource(body)
    if generation is None:
        generation = int(body["metadata"].get("generation", 0))
    previous: list[Obj] = list((body.get("status") or {}).get("conditions") or [])
    want = svc.desired_replicas
    ds: Obj = (deployment or {}).get("status") or {}
    replicas = int(ds.get("replicas", 0))
    available = int(ds.get("availableReplicas", 0))
    updated = int(ds.get("updatedReplicas", 0))
    observed = deployment is not None and ds.get("observedGeneration") == (
        deployment["metadata"].get("generation")
    )
    failing = [
        c.get("message", "")
        for c in ds.get("conditions") or []
        if (c.get("type") == "ReplicaFailure" and c.get("status") == "True")
        or (c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded")
    ]
    ready = observed and available >= want and updated >= want and replicas == want
    progress = f"{available}/{want} available, {updated} updated"
    return {
        "observedGeneration": generation,
        "replicas": replicas,
        "availableReplicas": available,
        "selector": selector_string(svc),
        "conditions": [
            condition(
                "Ready",
                ready,
                reason="Available" if ready else "Waiting",
                message=progress,
                generation=generation,
                previous=previous,
            ),
            condition(
                "Progressing",
                not ready and not failing,
                reason="RollingOut" if not ready else "Complete",
                message=progress,
                generation=generation,
                previous=previous,
            ),
            condition(
                "Degraded",
                bool(failing),
                reason="ReplicaFailure" if failing else "Healthy",
                message="; ".join(failing) or "no failures",
                generation=generation,
                previous=previous,
            ),
            *others(previous, {"Ready", "Progressing", "Degraded"}),
        ],
    }


def others(previous: list[Obj], own: set[str]) -> list[Obj]:
    """The conditions a writer does not own (a merge patch replaces the whole list, so each
    writer carries the others' over unchanged, e.g. ``Reconciled`` from a permanent error)."""
    return [c for c in previous if c.get("type") not in own]


def status_changes(current: Mapping[str, Any] | None, wanted: Obj) -> Obj:
    """The part of ``wanted`` that differs from ``current`` (empty: nothing to write)."""
    current = current or {}
    return {k: v for k, v in wanted.items() if current.get(k) != v}


class DesiredChildren:
    """The children an owner wants, by (kind, name), remembered per (uid, generation) for the
    ``size`` owners used last: a service's children change about 16 times while it comes up,
    and computing all seven again for each event was a sixth of the child events' time.

    The children depend only on the owner's identity and spec, and the generation changes with
    every change of the spec, so an entry never goes stale. Safe across the child lanes'
    threads; callers must not change what they get.
    """

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, int], dict[tuple[str, str], Obj]] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, owner: Mapping[str, Any]) -> dict[tuple[str, str], Obj]:
        """The owner's children, by (kind, name)."""
        meta = owner["metadata"]
        at = (str(meta["uid"]), int(meta.get("generation", 0)))
        with self._lock:
            found = self._entries.get(at)
            if found is not None:
                self._entries.move_to_end(at)
                return found
        wanted = {key(c): c for c in children(ServiceSpec.from_resource(owner))}
        with self._lock:
            self._entries[at] = wanted
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return wanted


class MatchedSpecs:
    """Deployments whose spec was found as their owner wants it: the Deployment's uid, with its
    generation and its owner's (uid, generation) then, for the ``size`` checked last.

    A Deployment changes about ten times while its pods come up, each time in its status only;
    comparing its whole spec again each time was most of the drift checks' time. Its generation
    moves with every change of its spec, and the owner's with every change of what it wants, so
    while both stay the spec still matches. Safe across the child lanes' threads.
    """

    KINDS = frozenset({"Deployment"})
    """Kinds whose ``metadata.generation`` moves with every change of the spec and whose
    desired state is its spec alone."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[int, str, int]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _state(
        owner: Mapping[str, Any], child: Mapping[str, Any]
    ) -> tuple[str, tuple[int, str, int]] | None:
        meta = child["metadata"]
        if child.get("kind") not in MatchedSpecs.KINDS or "generation" not in meta:
            return None
        owned = owner["metadata"]
        at = (int(meta["generation"]), str(owned["uid"]), int(owned.get("generation", 0)))
        return str(meta["uid"]), at

    def matched(self, owner: Mapping[str, Any], child: Mapping[str, Any]) -> bool:
        """True when this child's spec matched the owner's wish at these same generations."""
        state = self._state(owner, child)
        if state is None:
            return False
        with self._lock:
            return self._entries.get(state[0]) == state[1]

    def record(self, owner: Mapping[str, Any], child: Mapping[str, Any]) -> None:
        """The child's spec was just found matching."""
        state = self._state(owner, child)
        if state is None:
            return
        with self._lock:
            self._entries[state[0]] = state[1]
            self._entries.move_to_end(state[0])
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


def restore_child(
    kube: Kube,
    owner: Mapping[str, Any],
    child: Mapping[str, Any],
    *,
    gone: bool,
    desired_children: DesiredChildren | None = None,
    matched_specs: MatchedSpecs | None = None,
) -> bool:
    """One child changed (or was deleted, ``gone``): re-apply it if it is not what the owner
    wants. Compares with the event's copy of the child, so no extra read is needed.
    ``desired_children`` remembers what owners want across events, ``matched_specs`` which
    specs were found matching (without them, everything is computed and compared afresh)."""
    wanted = (desired_children or DesiredChildren(1)).of(owner)
    desired = wanted.get((child["kind"], child["metadata"]["name"]))
    if desired is None:
        return False
    if not gone:
        known = matched_specs is not None and matched_specs.matched(owner, child)
        if not drifted(dict(child), desired, spec_matched=known):
            if matched_specs is not None and not known:
                matched_specs.record(owner, child)
            return False
    kube.apply(desired)
    return True

"""Writing ``LibreChatService`` status: one write at a time per service, from the newest
Deployment seen, with roll-out progress coalesced.

A service's status changes when its spec is handled and several times per pod while its
Deployment rolls out. A change that moves the observed generation or flips a condition (Ready,
Progressing, Degraded) is written at once. A change of progress only (replica counts, the
conditions' messages) waits ``delay`` seconds and is then written as it stands by then, so a
roll-out that completes meanwhile costs one write instead of several, and a slow one still shows
progress.

A write that changes the conditions carries the resourceVersion they were computed from (the one
the writer's last write returned, else the watch's): the list is shared with other writers, and a
merge patch replaces it whole. When another writer changed the service meanwhile the API server
answers 409; the service is read again and the write recomputed from what is stored. A write whose
connection broke may have been stored or not: the next Deployment event reads the service first.

The observed generation is the handlers' to move (:meth:`StatusWriter.handled`): Deployment events
(:meth:`StatusWriter.observed`) keep the generation the status already records, so a status never
claims a spec the children do not have yet.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from .kube import Kube, KubeError, Obj, OperatorError
from .services import others, status, status_changes

Key = tuple[str, str]

log = logging.getLogger("librechat.operator.statuses")

CONFLICT_ATTEMPTS = 5
"""Reads and recomputations a conditions write gets before its 409 propagates."""

_STRIPES = 64
"""Locks that serialize the writes of one service (a service maps to one of them)."""


def _key(body: Mapping[str, Any]) -> Key:
    meta = body["metadata"]
    return (meta["namespace"], meta["name"])


def _slim(deployment: Mapping[str, Any]) -> Obj:
    """What a service's status needs of its Deployment (a few hundred bytes kept per service)."""
    return {
        "metadata": {"generation": deployment["metadata"].get("generation")},
        "status": deployment.get("status") or {},
    }


def _generation(deployment: Mapping[str, Any] | None) -> int:
    return int((deployment or {}).get("metadata", {}).get("generation") or 0)


def _condition_states(status: Mapping[str, Any] | None) -> set[tuple[str, str]]:
    conditions = (status or {}).get("conditions") or []
    return {(c.get("type", ""), c.get("status", "")) for c in conditions}


class StatusWriter:
    """The operator's one writer of ``LibreChatService`` status (see the module docstring).

    Call :meth:`start` once before :meth:`observed`, and :meth:`stop` at shutdown.
    """

    def __init__(
        self, kube: Kube, *, delay: float = 2.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._kube = kube
        self._delay = delay
        self._clock = clock
        self._locks = [threading.Lock() for _ in range(_STRIPES)]
        self._deployments: dict[Key, Obj | None] = {}
        """Per service, the newest Deployment seen (slim), None once it was deleted."""
        self._written: dict[Key, Obj] = {}
        """Per service, the fields last written: for a moment newer than the watch's copy."""
        self._versions: dict[Key, str] = {}
        """Per service, the resourceVersion its last write (or read after a conflict) saw."""
        self._uncertain: set[Key] = set()
        """Services whose last write lost its connection: stored or not, nobody knows."""
        self._pending: dict[Key, Obj] = {}
        """Services with progress to write, with their newest owner body."""
        self._due: list[tuple[float, Key]] = []
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ entry points

    def handled(self, owner: Mapping[str, Any], applied: Mapping[str, Any] | None = None) -> Obj:
        """The owner's spec has just been converged: write its status now, for its generation.

        ``applied`` is the Deployment as its apply returned it (None when it was not applied);
        without either it or a Deployment seen before, the Deployment is read. Returns what was
        written. Errors propagate: the handler is retried.
        """
        key = _key(owner)
        with self._lock(key):
            known = self._deployments.get(key)
            newer = known is None or _generation(applied) > _generation(known)
            if applied is not None and newer:
                known = _slim(applied)
            elif key not in self._deployments:
                fetched = self._kube.get("Deployment", key[0], key[1])
                known = _slim(fetched) if fetched is not None else None
            self._deployments[key] = known
            generation = int(owner["metadata"].get("generation", 0))
            self._pending.pop(key, None)
            return self._write(key, owner, generation)

    def observed(
        self, owner: Mapping[str, Any], deployment: Mapping[str, Any], *, gone: bool
    ) -> bool:
        """The owner's Deployment changed (or was deleted, ``gone``): write the status at once
        if a condition flips, else soon (coalescing later changes). True when this found that a
        write whose connection broke had been stored: a handler that failed on it sees its spec
        as handled and will not run again, so its recovery is the caller's to report."""
        key = _key(owner)
        settled = False
        with self._lock(key):
            self._deployments[key] = None if gone else _slim(deployment)
            if key in self._uncertain:
                # The handler's write may have been stored after all, and kopf then sees the
                # spec as handled and never runs the handler again: read what is stored.
                try:
                    self._reread(key)
                except OperatorError as exc:
                    log.warning(f"status of {key[0]}/{key[1]} not read, retrying: {exc}")
                    return False
                self._uncertain.discard(key)
                stored = self._written[key].get("observedGeneration")
                settled = stored == owner["metadata"].get("generation")
            current = self._current(key, owner)
            generation = current.get("observedGeneration")
            if generation is None:
                return settled  # never handled: the handler writes the first status
            wanted = self._wanted(key, owner, current, int(generation))
            if not status_changes(current, wanted):
                self._pending.pop(key, None)
                return settled
            urgent = _condition_states(current) != _condition_states(wanted)
            if urgent and self._write_logged(key, owner, int(generation)):
                self._pending.pop(key, None)
                return settled
            first = key not in self._pending
            self._pending[key] = dict(owner)
        if first:
            self._schedule(key, self._delay)
        return settled

    def set_condition(self, owner: Mapping[str, Any], condition: Obj) -> bool:
        """Set one condition the status computation does not own (``Reconciled``), among the
        conditions as last written, so neither write undoes the other. False: already so."""
        key = _key(owner)

        def wanted(current: Obj) -> Obj:
            previous = list(current.get("conditions") or [])
            if condition in previous:
                return {}
            return {"conditions": [*others(previous, {condition["type"]}), condition]}

        with self._lock(key):
            return bool(self._patch(key, owner, wanted))

    def current_conditions(self, owner: Mapping[str, Any]) -> list[Obj]:
        """The service's conditions as last written (newer than a watch's copy)."""
        key = _key(owner)
        with self._lock(key):
            return list(self._current(key, owner).get("conditions") or [])

    def forget(self, namespace: str, name: str) -> None:
        """The service is gone: drop what is kept for it."""
        key = (namespace, name)
        with self._lock(key):
            self._forget(key)

    # ------------------------------------------------------------------ the flusher

    def start(self) -> None:
        """Start the thread that writes coalesced progress when it is due."""
        self._thread = threading.Thread(target=self._run, name="status-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _schedule(self, key: Key, delay: float) -> None:
        with self._wake:
            heapq.heappush(self._due, (self._clock() + delay, key))
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (not self._due or self._due[0][0] > self._clock()):
                    self._wake.wait(self._due[0][0] - self._clock() if self._due else None)
                if self._stopping:
                    return
                _, key = heapq.heappop(self._due)
            self.flush(key)

    def flush(self, key: Key) -> None:
        """Write a service's pending progress now (the flusher calls this when it is due)."""
        with self._lock(key):
            owner = self._pending.pop(key, None)
            if owner is None:
                return  # written meanwhile by a condition change, or forgotten
            generation = self._current(key, owner).get("observedGeneration")
            if generation is None:
                return
            if not self._write_logged(key, owner, int(generation)):
                self._pending[key] = owner
                retry = True
            else:
                retry = False
        if retry:
            self._schedule(key, self._delay)

    # ------------------------------------------------------------------ writing

    def _lock(self, key: Key) -> threading.Lock:
        return self._locks[hash(key) % _STRIPES]

    def _current(self, key: Key, owner: Mapping[str, Any]) -> Obj:
        return {**(owner.get("status") or {}), **self._written.get(key, {})}

    def _wanted(self, key: Key, owner: Mapping[str, Any], current: Obj, generation: int) -> Obj:
        return status({**owner, "status": current}, self._deployments.get(key), generation)

    def _write(self, key: Key, owner: Mapping[str, Any], generation: int) -> Obj:
        """Write what differs (the caller holds the service's lock); returns it."""
        return self._patch(
            key,
            owner,
            lambda current: status_changes(current, self._wanted(key, owner, current, generation)),
        )

    def _patch(self, key: Key, owner: Mapping[str, Any], changes_to: Callable[[Obj], Obj]) -> Obj:
        """Write ``changes_to(current status)`` (the caller holds the service's lock); returns
        what was written. A change of the conditions is conditional on the version they were
        computed from; on a 409 the service is read again and the changes recomputed."""
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            changes = changes_to(self._current(key, owner))
            if not changes:
                return changes
            version = None
            if "conditions" in changes:
                version = self._versions.get(key) or owner["metadata"].get("resourceVersion")
            try:
                written = self._kube.patch_status(
                    "LibreChatService", key[0], key[1], changes, resource_version=version
                )
            except KubeError as exc:
                if exc.status != 409 or attempt == CONFLICT_ATTEMPTS:
                    raise
                log.info(f"status of {key[0]}/{key[1]} changed meanwhile, reading it again")
                self._reread(key)
                continue
            except OperatorError:
                self._uncertain.add(key)
                raise
            self._written[key] = {**self._written.get(key, {}), **changes}
            self._versions[key] = written["metadata"]["resourceVersion"]
            return changes
        raise AssertionError("unreachable")

    def _reread(self, key: Key) -> None:
        """Take the stored status and version as the newest (after a conflict)."""
        fresh = self._kube.get("LibreChatService", key[0], key[1])
        if fresh is None:
            path = self._kube.path("LibreChatService", key[0], key[1])
            raise KubeError(404, "GET", path, "the service is gone")
        self._written[key] = dict(fresh.get("status") or {})
        self._versions[key] = fresh["metadata"]["resourceVersion"]

    def _write_logged(self, key: Key, owner: Mapping[str, Any], generation: int) -> bool:
        """:meth:`_write` from an event or the flusher, where no handler retries: False when it
        should be tried again."""
        try:
            self._write(key, owner, generation)
        except KubeError as exc:
            if exc.status == 404:
                self._forget(key)  # the service is gone
                return True
            log.warning(f"status of {key[0]}/{key[1]} not written, retrying: {exc}")
            return False
        except OperatorError as exc:
            log.warning(f"status of {key[0]}/{key[1]} not written, retrying: {exc}")
            return False
        return True

    def _forget(self, key: Key) -> None:
        self._deployments.pop(key, None)
        self._written.pop(key, None)
        self._versions.pop(key, None)
        self._uncertain.discard(key)
        self._pending.pop(key, None)

"""Leader election on a ``coordination.k8s.io`` Lease: of the operator's replicas, only the leader
reconciles and writes.

The protocol is client-go's ``leaderelection``. The holder renews the Lease every ``retry_s``. A
candidate takes it over only once it has seen the same record (holder and renew time) unchanged
for ``lease_s`` by its own clock, so no two machines' clocks are compared. A leader that has not
renewed for ``renew_deadline_s`` (shorter than ``lease_s``), or that finds another holder, is told
at once (``on_lost``; the operator's process then exits and Kubernetes restarts it as a
candidate): it stops before any candidate can take over, so two leaders never write at once.
Every update carries the ``resourceVersion`` it read: two candidates racing for an expired Lease
cannot both win.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from .kube import Kube, KubeError, Obj, OperatorError

log = logging.getLogger("librechat.operator.leader")


@dataclass(frozen=True)
class LeaseSettings:
    """Which Lease, who we are, and the protocol's three durations."""

    identity: str
    """This replica's name in ``holderIdentity`` (the pod's name in a cluster)."""
    namespace: str = "librechat-system"
    name: str = "librechat-operator"
    lease_s: float = 10.0
    """How long a candidate waits, after the record last changed, before taking over."""
    renew_deadline_s: float = 7.0
    """How long a leader keeps leading without a successful renewal."""
    retry_s: float = 1.5
    """How often the leader renews and a candidate tries."""


class Attempt(Enum):
    """What one try to acquire or renew found."""

    HELD = "held"
    """We hold the Lease (acquired or renewed)."""
    OTHER = "other"
    """Another replica holds it and has renewed within ``lease_s``."""
    FAILED = "failed"
    """The API server could not be asked, or another candidate won the race."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Elector:
    """One replica's view of the Lease; :meth:`attempt` is one round of the protocol."""

    def __init__(
        self, kube: Kube, settings: LeaseSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.kube = kube
        self.settings = settings
        self._clock = clock
        self._observed: tuple[str, str] | None = None
        self._observed_at = 0.0
        self.holder = ""
        """The holder last seen."""

    def attempt(self) -> Attempt:
        """Acquire the Lease, renew it, or see who holds it."""
        s = self.settings
        try:
            lease = self.kube.get("Lease", s.namespace, s.name)
        except OperatorError as exc:
            log.warning("cannot read the Lease %s/%s: %s", s.namespace, s.name, exc)
            return Attempt.FAILED
        if lease is None:
            return self._write(None, transitions=0, acquired=_now())
        spec = lease.get("spec") or {}
        holder = str(spec.get("holderIdentity") or "")
        record = (holder, str(spec.get("renewTime") or ""))
        if record != self._observed:
            self._observed, self._observed_at = record, self._clock()
        self.holder = holder
        mine = holder == s.identity
        if holder and not mine and self._clock() - self._observed_at < s.lease_s:
            return Attempt.OTHER
        transitions = int(spec.get("leaseTransitions") or 0) + (0 if mine else 1)
        acquired = str(spec.get("acquireTime") or _now()) if mine else _now()
        return self._write(lease, transitions=transitions, acquired=acquired)

    def _write(self, lease: Obj | None, *, transitions: int, acquired: str) -> Attempt:
        s = self.settings
        body: Obj = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": s.name, "namespace": s.namespace},
            "spec": {
                "holderIdentity": s.identity,
                "leaseDurationSeconds": max(1, round(s.lease_s)),
                "acquireTime": acquired,
                "renewTime": _now(),
                "leaseTransitions": transitions,
            },
        }
        try:
            if lease is None:
                self.kube.request("POST", self.kube.path("Lease", s.namespace), body)
            else:
                body["metadata"]["resourceVersion"] = lease["metadata"]["resourceVersion"]
                self.kube.request("PUT", self.kube.path("Lease", s.namespace, s.name), body)
        except KubeError as exc:
            if exc.status not in (409, 422):
                log.warning("cannot write the Lease %s/%s: %s", s.namespace, s.name, exc)
            return Attempt.FAILED  # another candidate wrote first
        except OperatorError as exc:
            log.warning("cannot write the Lease %s/%s: %s", s.namespace, s.name, exc)
            return Attempt.FAILED
        self.holder = s.identity
        return Attempt.HELD


def acquire(elector: Elector, stop: threading.Event | None = None) -> bool:
    """Try until this replica holds the Lease (True) or ``stop`` is set (False)."""
    told = ""
    while not (stop and stop.is_set()):
        if elector.attempt() is Attempt.HELD:
            log.info("leading as %s", elector.settings.identity)
            return True
        if elector.holder and elector.holder != told:
            told = elector.holder
            log.info("waiting: %s leads", told)
        time.sleep(elector.settings.retry_s)
    return False


def keep(
    elector: Elector, on_lost: Callable[[str], None], clock: Callable[[], float] = time.monotonic
) -> threading.Thread:
    """Renew in a daemon thread; ``on_lost(reason)`` once another replica holds the Lease or no
    renewal has succeeded for ``renew_deadline_s``."""
    s = elector.settings

    def renew() -> None:
        last = clock()
        while True:
            time.sleep(s.retry_s)
            result = elector.attempt()
            if result is Attempt.HELD:
                last = clock()
            elif result is Attempt.OTHER or elector.holder not in ("", s.identity):
                on_lost(f"{elector.holder} holds the Lease now")
                return
            elif clock() - last >= s.renew_deadline_s:
                on_lost(f"no renewal for {s.renew_deadline_s:g} s")
                return

    thread = threading.Thread(target=renew, name="lease-renewal", daemon=True)
    thread.start()
    return thread

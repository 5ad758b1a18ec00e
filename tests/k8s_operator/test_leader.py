"""The Lease protocol (:mod:`k8s_operator.leader`) against the real API server, each replica with a
clock of its own that the test moves."""

from __future__ import annotations

import socket
import threading

import pytest
from kubernetes import client

from k8s_operator.kube import Kube
from k8s_operator.leader import Attempt, Elector, LeaseSettings, keep

pytestmark = pytest.mark.e2e


class Clock:
    """A replica's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Lost(threading.Event):
    """``on_lost``: records why, and sets."""

    def __init__(self) -> None:
        super().__init__()
        self.reasons: list[str] = []

    def __call__(self, why: str) -> None:
        self.reasons.append(why)
        self.set()


def _elector(kube: Kube, namespace: str, identity: str, **timing: float) -> tuple[Elector, Clock]:
    clock = Clock()
    settings = LeaseSettings(identity, namespace, name="op", **timing)
    return Elector(kube, settings, clock=clock), clock


def _lease(kube: Kube, namespace: str) -> dict[str, object]:
    lease = kube.get("Lease", namespace, "op")
    assert lease is not None
    spec: dict[str, object] = lease["spec"]
    return spec


def test_one_holder_and_a_take_over_only_after_the_lease_ran_out(
    kube: Kube, namespace: str
) -> None:
    a, _ = _elector(kube, namespace, "a")
    b, b_clock = _elector(kube, namespace, "b")
    assert a.attempt() is Attempt.HELD  # creates the Lease
    assert b.attempt() is Attempt.OTHER
    assert b.holder == "a"
    b_clock.now += 9.0
    assert a.attempt() is Attempt.HELD  # a renews: b starts counting again
    assert b.attempt() is Attempt.OTHER
    b_clock.now += 9.0
    assert b.attempt() is Attempt.OTHER  # 9 s since a's renewal, under the 10 s lease
    b_clock.now += 1.5
    assert b.attempt() is Attempt.HELD  # a silent for 10.5 s of b's clock
    spec = _lease(kube, namespace)
    assert spec["holderIdentity"] == "b"
    assert spec["leaseTransitions"] == 1
    assert a.attempt() is Attempt.OTHER  # a learns it lost
    assert a.holder == "b"


def test_two_candidates_racing_for_an_expired_lease_cannot_both_win(
    kube: Kube, namespace: str
) -> None:
    a, _ = _elector(kube, namespace, "a")
    assert a.attempt() is Attempt.HELD
    stale = kube.get("Lease", namespace, "op")
    b, _ = _elector(kube, namespace, "b")
    c, _ = _elector(kube, namespace, "c")
    assert b._write(stale, transitions=1, acquired="2026-01-01T00:00:00.000000Z") is Attempt.HELD
    # c read the same version as b: the API server refuses its write (409)
    assert c._write(stale, transitions=1, acquired="2026-01-01T00:00:00.000000Z") is Attempt.FAILED
    assert _lease(kube, namespace)["holderIdentity"] == "b"


def test_a_leader_that_cannot_renew_stops_before_anyone_may_take_over(
    kube: Kube, namespace: str
) -> None:
    timing = {"lease_s": 3.0, "renew_deadline_s": 1.0, "retry_s": 0.1}
    a, _ = _elector(kube, namespace, "a", **timing)
    assert a.attempt() is Attempt.HELD
    a.kube = _unreachable(kube)  # from now on a's requests reach no API server
    lost = Lost()
    keep(a, lost)
    assert lost.wait(5.0), "the leader kept leading without renewals"
    assert lost.reasons == ["no renewal for 1 s"]


def test_a_leader_that_finds_another_holder_stops_at_once(kube: Kube, namespace: str) -> None:
    timing = {"lease_s": 3.0, "renew_deadline_s": 2.0, "retry_s": 0.1}
    a, _ = _elector(kube, namespace, "a", **timing)
    b, b_clock = _elector(kube, namespace, "b", **timing)
    assert a.attempt() is Attempt.HELD
    assert b.attempt() is Attempt.OTHER
    b_clock.now += 10.0
    assert b.attempt() is Attempt.HELD  # as if a had been paused past its lease
    lost = Lost()
    keep(a, lost)
    assert lost.wait(2.0)
    assert lost.reasons == ["b holds the Lease now"]


def _unreachable(kube: Kube) -> Kube:
    """A client like ``kube`` whose API server address answers nothing."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    configuration = kube.api_client.configuration
    dead = type(configuration)()
    dead.host = f"https://127.0.0.1:{port}"
    dead.verify_ssl = False
    return Kube(client.ApiClient(dead), field_manager="cut")

"""The verification's arithmetic on hand-made timelines: fault windows, time to recover, error
budget, steady-state SLOs, and the verdict's reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from librechat_ops.verification.errors import VerifyError
from librechat_ops.verification.faults import FaultRun
from librechat_ops.verification.scorecard import judge_faults, judge_slos, score
from librechat_ops.verification.spec import FaultPlan, VerifySpec, parse_faults
from loadtests.audit import Audit
from loadtests.common import names
from loadtests.profiles import DEFAULT_PROFILES, Profile, get_profile
from loadtests.results import RunResults, TimelineCell

T0 = 1_000_000.0
"""The run's start, in epoch seconds."""


def cell(requests: int, failures: int = 0, ms: int = 10) -> TimelineCell:
    return TimelineCell(requests, failures, {ms: requests})


def results(per_second: list[tuple[int, int]], ms: int = 10) -> RunResults:
    """A run with ``(requests, failures)`` per second, all on the login entry."""
    timeline = [(s, names.LOGIN, cell(r, f, ms)) for s, (r, f) in enumerate(per_second)]
    return RunResults(
        host="http://sim", entries={}, samples=[], wall_s=float(len(per_second)), cpu_s=1.0,
        cpu_warning=False, started_at=T0, timeline=timeline,
    )  # fmt: skip


def fault(at: float, ends: float, hypothesis: str = "held") -> FaultRun:
    return FaultRun(
        experiment="redis-outage", started_at=T0 + at - 1, injected_at=T0 + at,
        ended_at=T0 + ends, status="completed", hypothesis=hypothesis, failed_probes=(),
        rollbacks_ok=True, journal=Path("j.json"),
    )  # fmt: skip


SPEC = VerifySpec(report_dir=Path("r"), state_dir=Path("s"), faults=())
PROFILE: Profile = get_profile("laptop", DEFAULT_PROFILES)


def test_recovery_is_the_start_of_five_healthy_seconds_after_the_fault() -> None:
    # 10 healthy seconds, a fault at 10 s failing everything for 4 s, then healthy again.
    run = results([(10, 0)] * 10 + [(10, 10)] * 4 + [(10, 0)] * 20)
    (judged,) = judge_faults(run, [fault(10.2, 12)], SPEC, availability=0.999)
    assert judged.time_to_recover_s == 4
    assert judged.window_s == (10, 14)
    assert judged.failures == 40
    # 40 failures at 10 req/s against 30 days at 99.9 %: 40 / 25,920.
    assert judged.budget_consumed_pct == pytest.approx(100 * 40 / 25_920, rel=1e-3)
    assert judged.passed


def test_a_fault_that_never_recovers_fails() -> None:
    run = results([(10, 0)] * 10 + [(10, 10)] * 8)
    (judged,) = judge_faults(run, [fault(10, 11)], SPEC, availability=0.999)
    assert judged.time_to_recover_s is None
    assert not judged.passed
    assert "never fell back" in judged.reasons[0]


def test_seconds_without_requests_are_not_healthy() -> None:
    run = results([(10, 0)] * 10 + [(0, 0)] * 6 + [(10, 0)] * 10)
    (judged,) = judge_faults(run, [fault(10, 11)], SPEC, availability=0.999)
    assert judged.time_to_recover_s == 6


def test_too_much_budget_and_a_deviated_hypothesis_are_reasons() -> None:
    run = results([(10, 0)] * 5 + [(10, 10)] * 20 + [(10, 0)] * 10)
    spec = VerifySpec(report_dir=Path("r"), state_dir=Path("s"), faults=(), max_recovery_s=10)
    (judged,) = judge_faults(run, [fault(5, 6, "deviated")], spec, availability=0.999)
    assert judged.time_to_recover_s == 20
    text = " | ".join(judged.reasons)
    assert "more than 10s" in text
    assert "of the 30-day error budget, more than 0.5%" in text
    assert "steady-state hypothesis deviated" in text


def test_steady_state_slos_leave_the_fault_windows_out() -> None:
    slow = [(s, names.LOGIN, cell(10, 0, 900)) for s in range(10, 14)]
    fast = [(s, names.LOGIN, cell(10, 0, 10)) for s in (*range(10), *range(14, 30))]
    run = results([])
    run = RunResults(**{**run.__dict__, "timeline": sorted(slow + fast), "wall_s": 30.0})
    (auth,) = [s for s in judge_slos(run, PROFILE, [(10, 14)]) if s.journey == "authentication"]
    assert auth.p99_ms == 10
    assert auth.passed
    (auth,) = [s for s in judge_slos(run, PROFILE, []) if s.journey == "authentication"]
    assert auth.p99_ms == 900
    assert "P99 900 ms above 25 ms" in auth.reasons[0]


def test_lost_messages_fail_the_verdict_even_when_everything_else_holds() -> None:
    run = results([(10, 0)] * 30)
    lost = Audit(chats=20, lost=2, duplicated=0, reconnects=0)
    card = score(run, [], lost, profile_name="laptop", profile=PROFILE, spec=SPEC)
    assert not card.passed
    assert "messages: 2 lost, 0 duplicated" in card.reasons
    fine = Audit(chats=20, lost=0, duplicated=0, reconnects=3)
    card = score(run, [], fine, profile_name="laptop", profile=PROFILE, spec=SPEC)
    assert [r for r in card.reasons if r.startswith("messages")] == []


def test_fault_times_spread_over_the_run_unless_given() -> None:
    known = ["redis-outage", "llm-latency"]
    assert parse_faults(["redis-outage", "llm-latency"], 90, known) == (
        FaultPlan("redis-outage", 30.0),
        FaultPlan("llm-latency", 60.0),
    )
    assert parse_faults(["llm-latency@1m"], 90, known) == (FaultPlan("llm-latency", 60.0),)
    with pytest.raises(VerifyError, match="no experiment named 'pod-kill'") as error:
        parse_faults(["pod-kill"], 90, known)
    assert error.value.hint == "one of: llm-latency, redis-outage"
    with pytest.raises(VerifyError, match="after the 90s run ends"):
        parse_faults(["llm-latency@2m"], 90, known)


def test_the_warm_up_is_left_out_of_the_steady_state() -> None:
    # Every user logs in during the first second: slow; afterwards fast.
    timeline = [(0, names.LOGIN, cell(10, 0, 300))]
    timeline += [(s, names.LOGIN, cell(10, 0, 10)) for s in range(1, 30)]
    run = RunResults(**{**results([]).__dict__, "timeline": timeline, "wall_s": 30.0})
    card = score(run, [], Audit(20, 0, 0, 0), profile_name="laptop", profile=PROFILE, spec=SPEC)
    (auth,) = [s for s in card.slos if s.journey == "authentication"]
    assert auth.p99_ms == 10
    assert auth.requests == 250  # seconds 5..29

"""The verification's arithmetic on hand-made timelines: fault windows, time to recover, error
budget, steady-state SLOs, and the verdict's reasons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from librechat_ops.verification.alerting import AlertSpan
from librechat_ops.verification.errors import VerifyError
from librechat_ops.verification.faults import FaultRun, laptop_experiments, read_journal
from librechat_ops.verification.scorecard import judge_faults, judge_slos, score
from librechat_ops.verification.spec import LAPTOP_FAULTS, FaultPlan, VerifySpec, parse_faults
from loadtests.audit import Audit, ChatVerdict
from loadtests.common import names
from loadtests.results import RunResults, TimelineCell
from slos.definition import Environment, environment

T0 = 1_000_000.0
"""The run's start, in epoch seconds."""


def cell(requests: int, failures: int = 0, ms: int = 10) -> TimelineCell:
    return TimelineCell(requests, failures, {ms: requests})


def results(per_second: list[tuple[int, int]], ms: int = 10) -> RunResults:
    """A run with ``(requests, failures)`` per second, all on the login entry."""
    timeline = [(s, names.REFRESH, cell(r, f, ms)) for s, (r, f) in enumerate(per_second)]
    return RunResults(
        host="http://sim", entries={}, samples=[], wall_s=float(len(per_second)), cpu_s=1.0,
        cpu_warning=False, started_at=T0, timeline=timeline,
    )  # fmt: skip


def fault(
    at: float, ends: float, hypothesis: str = "held", failed_checks: tuple[str, ...] = ()
) -> FaultRun:
    return FaultRun(
        experiment="redis-outage", started_at=T0 + at - 1, injected_at=T0 + at,
        ended_at=T0 + ends, status="completed", hypothesis=hypothesis, failed_probes=(),
        failed_checks=failed_checks, rollbacks_ok=True, journal=Path("j.json"),
    )  # fmt: skip


SPEC = VerifySpec(report_dir=Path("r"), state_dir=Path("s"), faults=())
PROFILE: Environment = environment("laptop")


def test_recovery_is_the_start_of_five_healthy_seconds_after_the_fault() -> None:
    # 10 healthy seconds, a fault at 10 s failing everything for 4 s, then healthy again.
    run = results([(10, 0)] * 10 + [(10, 10)] * 4 + [(10, 0)] * 20)
    (judged,) = judge_faults(run, [fault(10.2, 12)], SPEC, slos=PROFILE)
    assert judged.time_to_recover_s == 4
    # The experiment ended at 12 s; what finished in the 5 s after it is still the fault's.
    assert judged.window_s == (10, 17)
    assert judged.failures == 40
    # 40 failures at 10 req/s against 30 days at 99.9 %: 40 / 25,920.
    assert judged.budget_consumed_pct == pytest.approx(100 * 40 / 25_920, rel=1e-3)
    assert judged.passed


def test_a_fault_that_never_recovers_fails() -> None:
    run = results([(10, 0)] * 10 + [(10, 10)] * 8)
    (judged,) = judge_faults(run, [fault(10, 11)], SPEC, slos=PROFILE)
    assert judged.time_to_recover_s is None
    assert not judged.passed
    assert "never fell back" in judged.reasons[0]


def test_seconds_without_requests_are_not_healthy() -> None:
    run = results([(10, 0)] * 10 + [(0, 0)] * 6 + [(10, 0)] * 10)
    (judged,) = judge_faults(run, [fault(10, 11)], SPEC, slos=PROFILE)
    assert judged.time_to_recover_s == 6


def test_too_much_budget_and_a_deviated_hypothesis_are_reasons() -> None:
    run = results([(10, 0)] * 5 + [(10, 10)] * 20 + [(10, 0)] * 10)
    spec = VerifySpec(report_dir=Path("r"), state_dir=Path("s"), faults=(), max_recovery_s=10)
    (judged,) = judge_faults(run, [fault(5, 6, "deviated")], spec, slos=PROFILE)
    assert judged.time_to_recover_s == 20
    text = " | ".join(judged.reasons)
    assert "more than 10s" in text
    assert "of the 30d error budget, more than 0.5%" in text
    assert "steady-state hypothesis deviated" in text


def test_steady_state_slos_leave_the_fault_windows_out() -> None:
    slow = [(s, names.REFRESH, cell(10, 0, 900)) for s in range(10, 14)]
    fast = [(s, names.REFRESH, cell(10, 0, 10)) for s in (*range(10), *range(14, 30))]
    run = results([])
    run = RunResults(**{**run.__dict__, "timeline": sorted(slow + fast), "wall_s": 30.0})
    (auth,) = [s for s in judge_slos(run, PROFILE, [(10, 14)]) if s.journey == "authentication"]
    assert auth.p99_ms == 10
    assert auth.passed
    (auth,) = [s for s in judge_slos(run, PROFILE, []) if s.journey == "authentication"]
    assert auth.p99_ms == 900
    assert "P99 900 ms above the 25 ms target" in auth.reasons[0]


def test_lost_messages_fail_the_verdict_even_when_everything_else_holds() -> None:
    run = results([(10, 0)] * 30)
    lost = Audit(chats=20, lost=2, duplicated=0, reconnects=0)
    card = score(run, [], lost, profile_name="laptop", profile=PROFILE, spec=SPEC)
    assert not card.passed
    assert "messages: 2 lost, 0 duplicated" in card.reasons
    fine = Audit(chats=20, lost=0, duplicated=0, reconnects=3)
    card = score(run, [], fine, profile_name="laptop", profile=PROFILE, spec=SPEC)
    assert [r for r in card.reasons if r.startswith("messages")] == []


def chats(*starts: tuple[float, bool, bool]) -> Audit:
    """An audit of chats started at ``T0 + s``, each (s, lost, duplicated)."""
    verdicts = tuple(ChatVerdict(T0 + s, lost, dup) for s, lost, dup in starts)
    lost = sum(v.lost for v in verdicts)
    dup = sum(v.duplicated for v in verdicts)
    return Audit(len(verdicts), lost, dup, 0, verdicts=verdicts)


def test_each_fault_window_counts_its_own_chats_lost_and_duplicated() -> None:
    run = results([(10, 0)] * 40)
    inside = [(10 + k * 0.2, k == 3, k == 5) for k in range(25)]  # 25 chats in 10..15 s
    outside = [(30.0, True, False)]
    (judged,) = judge_faults(
        run, [fault(10, 15)], SPEC, slos=PROFILE, audit=chats(*inside, *outside)
    )
    assert (judged.chats, judged.lost, judged.duplicated) == (25, 1, 1)
    assert judged.reasons == ("messages in its window: 1 lost, 1 duplicated",)
    clean = [(10 + k * 0.2, False, False) for k in range(25)]
    (judged,) = judge_faults(run, [fault(10, 15)], SPEC, slos=PROFILE, audit=chats(*clean))
    assert judged.passed


def test_a_fault_window_with_too_few_chats_cannot_pass() -> None:
    run = results([(10, 0)] * 40)
    few = [(10 + k * 0.2, False, False) for k in range(19)]
    (judged,) = judge_faults(run, [fault(10, 15)], SPEC, slos=PROFILE, audit=chats(*few))
    assert not judged.passed
    assert judged.reasons == (
        "only 19 chats started in its window, fewer than 20 to show whether it loses messages",
    )


def test_fault_times_spread_over_the_run_unless_given() -> None:
    known = ["redis-outage", "llm-latency", "node-loss"]
    here = ["redis-outage", "llm-latency"]
    assert parse_faults(["redis-outage", "llm-latency"], 90, known, here) == (
        FaultPlan("redis-outage", 30.0),
        FaultPlan("llm-latency", 60.0),
    )
    assert parse_faults(["llm-latency@1m"], 90, known, here) == (FaultPlan("llm-latency", 60.0),)
    with pytest.raises(VerifyError, match="no experiment named 'pod-kill'") as error:
        parse_faults(["pod-kill"], 90, known, here)
    assert error.value.hint == "one of: llm-latency, redis-outage"
    with pytest.raises(VerifyError, match="after the 90s run ends"):
        parse_faults(["llm-latency@2m"], 90, known, here)
    with pytest.raises(VerifyError, match="node-loss runs against a cluster or AWS"):
        parse_faults(["node-loss"], 90, known, here)


def test_only_the_simulators_experiments_run_on_the_laptop() -> None:
    assert laptop_experiments() == [
        "llm-latency",
        "redis-network-degraded",
        "redis-outage",
        "region-failover-local",
        "replica-kill-mid-stream",
    ]
    assert set(LAPTOP_FAULTS) <= set(laptop_experiments())


def test_a_check_that_fails_while_the_fault_lasts_fails_the_fault() -> None:
    run = results([(10, 0)] * 30)
    (judged,) = judge_faults(
        run, [fault(10, 12, failed_checks=("chats-still-arrive",))], SPEC, slos=PROFILE
    )
    assert not judged.passed
    assert judged.reasons == ("failed while the fault lasted: chats-still-arrive",)


def test_a_planned_fault_that_never_ran_fails_the_verdict() -> None:
    run = results([(10, 0)] * 30)
    fine = Audit(chats=20, lost=0, duplicated=0, reconnects=0)
    card = score(
        run, [], fine, profile_name="laptop", profile=PROFILE, spec=SPEC, not_run=["llm-latency"]
    )
    assert not card.passed
    assert card.not_run == ("llm-latency",)
    assert "fault llm-latency: did not run, the load ended first" in card.reasons


def test_a_run_without_requests_fails_with_a_finite_budget() -> None:
    card = score(
        results([]), [], Audit(0, 0, 0, 0), profile_name="laptop", profile=PROFILE, spec=SPEC
    )
    assert not card.passed
    assert card.budget_consumed_pct == 0.0
    assert "Infinity" not in json.dumps(card.to_dict())


def journal(method: list[dict[str, Any]]) -> dict[str, Any]:
    """A chaostoolkit journal with a held hypothesis and one succeeded rollback."""
    held = {"steady_state_met": True, "probes": []}
    return {
        "start": "2026-11-26T10:00:00", "end": "2026-11-26T10:00:09", "status": "completed",
        "deviated": False, "steady_states": {"before": held, "after": held}, "run": method,
        "rollbacks": [{"status": "succeeded"}],
    }  # fmt: skip


def probe(name: str, output: Any, tolerance: Any = None, status: str = "succeeded") -> Any:
    activity: dict[str, Any] = {"type": "probe", "name": name}
    if tolerance is not None:
        activity["tolerance"] = tolerance
    return {
        "activity": activity,
        "status": status,
        "output": output,
        "start": "2026-11-26T10:00:01",
    }


def test_the_journal_says_which_checks_failed_while_the_fault_lasted(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    method = [
        {"activity": {"type": "action", "name": "cut"}, "status": "succeeded",
         "start": "2026-11-26T10:00:01"},
        probe("chats-arrive", False, tolerance=True),
        probe("replicas", 2, tolerance={"type": "range", "range": [1, 64]}),
        probe("raised", None, status="failed"),
        probe("recorded-only", {"anything": 1}),
    ]  # fmt: skip
    path.write_text(json.dumps(journal(method)))
    run = read_journal("region-failover-local", path)
    assert run.hypothesis == "held"
    assert run.failed_checks == ("chats-arrive", "raised")
    assert not run.passed
    path.write_text(json.dumps(journal(method[1:3] + method[4:])))
    assert read_journal("x", path).failed_checks == ("chats-arrive",)
    path.write_text(json.dumps(journal([method[0], method[2], method[4]])))
    assert read_journal("x", path).passed


def test_a_broken_journal_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    path.write_text('{"start": "2026-11-26T10:00:00", "run": [')
    with pytest.raises(VerifyError, match="cannot read the journal of redis-outage"):
        read_journal("redis-outage", path)
    path.write_text("{}")
    with pytest.raises(VerifyError, match="cannot read the journal"):
        read_journal("redis-outage", path)


def test_the_warm_up_is_left_out_of_the_steady_state() -> None:
    # Every user logs in during the first second: slow; afterwards fast.
    timeline = [(0, names.REFRESH, cell(10, 0, 300))]
    timeline += [(s, names.REFRESH, cell(10, 0, 10)) for s in range(1, 30)]
    run = RunResults(**{**results([]).__dict__, "timeline": timeline, "wall_s": 30.0})
    card = score(run, [], Audit(20, 0, 0, 0), profile_name="laptop", profile=PROFILE, spec=SPEC)
    (auth,) = [s for s in card.slos if s.journey == "authentication"]
    assert auth.p99_ms == 10
    assert auth.requests == 250  # seconds 5..29


def _span(active: float, resolved: float | None, journey: str = "authentication") -> AlertSpan:
    return AlertSpan(
        name="SloErrorBudgetBurnPage1h", journey=journey, objective="availability",
        severity="page", active_at=T0 + active, notified_at=T0 + active + 1.5,
        resolved_at=None if resolved is None else T0 + resolved,
    )  # fmt: skip


def test_a_fault_that_breaks_an_objective_without_an_alert_fails() -> None:
    run = results([(10, 0)] * 10 + [(10, 10)] * 3 + [(10, 0)] * 20)
    (silent,) = judge_faults(run, [fault(10, 13)], SPEC, slos=PROFILE, alerts=[])
    assert silent.broken == ("authentication availability",)
    assert not silent.passed
    assert silent.due == (
        "SloErrorBudgetBurnPage1h authentication availability",
        "SloErrorBudgetBurnPage6h authentication availability",
        "SloErrorBudgetBurnTicket3d authentication availability",
    )
    (reason,) = silent.reasons
    assert reason.startswith(
        "authentication availability burned its budget past the threshold of "
        "SloErrorBudgetBurnPage1h, SloErrorBudgetBurnPage6h, SloErrorBudgetBurnTicket3d ("
    )
    assert reason.endswith(") and no alert on it fired")
    (seen,) = judge_faults(run, [fault(10, 13)], SPEC, slos=PROFILE, alerts=[_span(11.0, 20.0)])
    assert seen.passed, seen.reasons
    (alert,) = seen.alerts
    assert (alert.fired_at_s, alert.time_to_detect_s, alert.resolved_at_s) == (12.5, 2.5, 20.0)


def test_alerts_outside_the_window_do_not_count_and_unwatched_runs_are_not_judged_on_them() -> None:
    run = results([(10, 0)] * 10 + [(10, 10)] * 3 + [(10, 0)] * 40)
    early, late = _span(2.0, 5.0), _span(40.0, None)
    (judged,) = judge_faults(run, [fault(10, 13)], SPEC, slos=PROFILE, alerts=[early, late])
    assert judged.alerts == ()
    assert not judged.passed
    (unwatched,) = judge_faults(run, [fault(10, 13)], SPEC, slos=PROFILE)
    assert unwatched.passed
    assert unwatched.broken == ("authentication availability",)


def test_an_alert_already_firing_on_the_broken_journey_covers_the_fault_without_a_detect_time() -> (
    None
):
    run = results([(10, 0)] * 10 + [(10, 10)] * 3 + [(10, 0)] * 20)
    ongoing = _span(3.0, None)
    (judged,) = judge_faults(run, [fault(10, 13)], SPEC, slos=PROFILE, alerts=[ongoing])
    assert judged.passed
    assert judged.alerts[0].time_to_detect_s is None
    other = _span(3.0, None, journey="search")  # another journey's alert covers nothing here
    (uncovered,) = judge_faults(run, [fault(10, 13)], SPEC, slos=PROFILE, alerts=[other])
    assert not uncovered.passed


def test_a_slow_window_breaks_the_latency_objective() -> None:
    timeline = [(s, names.REFRESH, cell(10, 0, 900 if 10 <= s < 13 else 10)) for s in range(30)]
    run = RunResults(
        host="http://sim", entries={}, samples=[], wall_s=30.0, cpu_s=1.0, cpu_warning=False,
        started_at=T0, timeline=timeline,
    )  # fmt: skip
    (judged,) = judge_faults(run, [fault(10, 13)], SPEC, slos=PROFILE, alerts=[])
    assert judged.broken == ("authentication latency_p99",)


def test_a_blip_below_every_alerts_threshold_needs_no_alert() -> None:
    # One failure among 100 requests a second breaks the 99.9 % objective in the fault's own
    # window, but burns the budget too slowly for any alert of the policy: no alert is due.
    run = results([(100, 0)] * 10 + [(100, 1)] + [(100, 0)] * 40)
    (judged,) = judge_faults(run, [fault(10, 11)], SPEC, slos=PROFILE, alerts=[])
    assert judged.broken == ("authentication availability",)
    assert judged.due == ()
    assert judged.passed, judged.reasons


def test_an_alert_after_the_next_fault_began_is_the_next_faults() -> None:
    run = results([(10, 0)] * 10 + [(10, 10)] * 3 + [(10, 0)] * 5 + [(10, 10)] * 3 + [(10, 0)] * 30)
    first, second = fault(10, 13), fault(18, 21)
    late = _span(19.0, 30.0)  # after the second fault's injection, inside the first's grace
    judged = judge_faults(
        run, [first, second], SPEC, slos=PROFILE, alerts=[_span(11.0, 16.0), late]
    )
    assert [a.fired_at_s for a in judged[0].alerts] == [12.5]
    assert [a.fired_at_s for a in judged[1].alerts] == [20.5]


def test_failures_after_the_next_fault_began_are_not_due_from_the_earlier_one() -> None:
    # The first fault's window runs long (errors until 21 s), but the second began at 18 s: the
    # errors from 18 s on make alerts due for the second fault only.
    run = results([(10, 0)] * 18 + [(10, 10)] * 3 + [(10, 0)] * 30)
    first, second = fault(10, 20), fault(18, 21)
    judged = judge_faults(run, [first, second], SPEC, slos=PROFILE, alerts=[])
    assert judged[0].due == ()
    assert judged[0].passed, judged[0].reasons
    assert judged[1].due
    assert not judged[1].passed


def test_an_alert_already_due_before_a_fault_is_not_that_faults() -> None:
    # Errors at 5-7 s keep the ticket's long windows burning through the fault at 20 s, which
    # adds none of its own: nothing becomes due in its window.
    run = results([(10, 0)] * 5 + [(10, 10)] * 3 + [(10, 0)] * 40)
    (judged,) = judge_faults(run, [fault(20, 22)], SPEC, slos=PROFILE, alerts=[])
    assert judged.due == ()
    assert judged.passed, judged.reasons

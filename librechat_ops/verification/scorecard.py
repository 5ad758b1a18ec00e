"""The verdict of one verification: pure arithmetic over the load run, the faults and the audit.

- **Fault windows** run from a fault's injection to the later of its recovery and
  :data:`FAULT_TAIL_S` after its experiment ended.
- **SLOs** are judged in steady state: on the seconds outside every fault window and after the
  warm-up (when every user logs in at once), each journey by :func:`slos.evaluate.judge` (error
  ratio, P99 and P95 against the SLO definition; a fault is judged by the next two items instead).
- **Error budget**: the failures a fault caused, as a share of the budget the availability
  objective allows over the SLO's window (30 days) at the run's request rate. At 99.9 % a full
  outage burns 1 % of that budget in about 26 s; a fault may burn ``max_budget_pct``.
- **Time to recover**: from the fault's start to the first second after which five seconds in a
  row have requests and an error ratio within the objective; at most ``max_recovery_s``.
- **Messages**: no chat lost or duplicated (:mod:`loadtests.audit`), counted per fault window
  too; a fault window in which fewer than :data:`MIN_CHATS_PER_WINDOW` chats started cannot show
  whether the fault loses messages, and fails.
- **Experiments**: each completed with its steady-state hypothesis held, every check it makes
  while the fault lasts (a probe in its method, with a tolerance) held, and its rollbacks done.
  A planned fault that could not start before the load ended did not run, and fails the
  verdict.
- **Alerts** (when the run was watched): the alerts each fault fired, with their time to detect,
  and those its failures made due (:mod:`.alert_judge`); a due alert with no alert on its
  objective fails the fault.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from loadtests.audit import Audit
from loadtests.common.names import JOURNEY_ENTRIES
from loadtests.results import RunResults, TimelineCell, merge, percentile
from slos.definition import Environment
from slos.evaluate import Judgement, judge
from slos.rules import AVAILABILITY, latency_objective

from .alert_judge import AlertRecord, due_alerts, fault_alerts, silent, split_objectives
from .alerting import SCALE, AlertSpan
from .faults import FaultRun
from .spec import VerifySpec

HEALTHY_STREAK_S = 5
"""Seconds in a row within the objective that count as recovered."""

FAULT_TAIL_S = 5
"""Seconds after an experiment ends that still count as its fault's: the timeline places a
request at the second it finished, and one started while the fault lasted may finish later (a
chat's first token behind a timed-out primary LLM comes about 3 s after it was sent)."""

DETECT_GRACE_S = 10
"""Seconds after a fault's window in which an alert that fires still counts as the fault's (the
notification passes Prometheus' evaluation and Alertmanager's grouping first), unless the next
fault has started by then."""

MIN_CHATS_PER_WINDOW = 20
"""Chats that must start inside a fault's window for its message count to mean something."""


@dataclass(frozen=True)
class SloResult:
    """One journey in steady state."""

    journey: str
    requests: int
    failures: int
    p99_ms: float | None
    target_p99_ms: float | None
    p95_ms: float | None
    target_p95_ms: float | None
    error_ratio: float
    allowed_error_ratio: float
    passed: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class FaultResult:
    """One fault: what it cost and how fast the system came back."""

    experiment: str
    injected_s: float
    """Seconds into the load run."""
    window_s: tuple[int, int]
    """The seconds counted as the fault's (start, end), excluded from the steady-state SLOs."""
    time_to_recover_s: float | None
    """None: errors never fell back within the objective before the run ended."""
    failures: int
    requests: int
    budget_consumed_pct: float
    hypothesis: str
    failed_probes: tuple[str, ...]
    failed_checks: tuple[str, ...]
    """Checks made while the fault lasted that failed."""
    rollbacks_ok: bool
    passed: bool
    reasons: tuple[str, ...]
    chats: int = 0
    """Chats started inside the window."""
    lost: int = 0
    """Of those, chats lost."""
    duplicated: int = 0
    """Of those, chats duplicated."""
    broken: tuple[str, ...] = ()
    """Objectives the window itself broke (``authentication availability``, ``search
    latency_p99``: the alerts' ``slo_journey`` and ``slo_objective``), judged by
    :func:`slos.evaluate.judge` on the window's seconds."""
    alerts: tuple[AlertRecord, ...] = ()
    """The alerts that fired from the injection to :data:`DETECT_GRACE_S` after the window, and
    those of its objectives already firing when it began."""
    due: tuple[str, ...] = ()
    """Alerts the load's own failures say should fire (``SloErrorBudgetBurnPage1h
    authentication availability``); each needs an alert on its objective."""


@dataclass(frozen=True)
class Scorecard:
    """Everything the verdict rests on."""

    passed: bool
    profile: str
    availability: float
    time_window: str
    """The SLO window the error budget is counted over (``30d``)."""
    run_s: float
    requests: int
    failures: int
    budget_consumed_pct: float
    """All the run's failures as a share of the SLO window's budget."""
    slos: tuple[SloResult, ...]
    faults: tuple[FaultResult, ...]
    not_run: tuple[str, ...]
    """Planned faults that never started: the load ended first."""
    messages: dict[str, Any]
    reasons: tuple[str, ...]
    """Why it failed, one line per failed check."""
    alerting: dict[str, Any]
    """How alerts were watched: the rules' window scale, scrape interval, the programs; and every
    alert notified during the run (empty: not watched)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _seconds(results: RunResults) -> dict[int, tuple[int, int]]:
    """Second -> (requests, failures), every entry together."""
    per: dict[int, tuple[int, int]] = {}
    for second, _name, cell in results.timeline:
        requests, failures = per.get(second, (0, 0))
        per[second] = (requests + cell.requests, failures + cell.failures)
    return per


def _recovery(per: dict[int, tuple[int, int]], start: int, last: int, allowed: float) -> int | None:
    """The first second >= ``start`` that begins a healthy streak, or None."""

    def healthy(s: int) -> bool:
        requests, failures = per.get(s, (0, 0))
        return requests > 0 and failures / requests <= allowed

    for s in range(start, last - HEALTHY_STREAK_S + 2):
        if all(healthy(s + k) for k in range(HEALTHY_STREAK_S)):
            return s
    return None


def _budget_pct(failures: int, rate: float, slos: Environment) -> float:
    """``failures`` as a percentage of the SLO window's budget at ``rate`` requests/s (a run with
    no requests has no failures either: 0; the definition refuses an availability of 100 %)."""
    allowed = rate * slos.window_s * slos.error_budget
    return 100.0 * failures / allowed if allowed > 0 else 0.0


def judge_faults(
    results: RunResults,
    runs: Iterable[FaultRun],
    spec: VerifySpec,
    slos: Environment,
    *,
    audit: Audit | None = None,
    alerts: Sequence[AlertSpan] | None = None,
    alert_scale: float = SCALE,
) -> list[FaultResult]:
    """Each fault's window, recovery, cost, messages (when ``audit`` is given), the alerts it
    fired (when ``alerts``, every notification of the run, is given) and verdict. A fault during
    which an availability objective burns its budget past an alert's threshold, by the alert's
    own arithmetic on what the load saw (``alert_scale``: the rules' window scale), fails unless
    an alert on that objective fired (or was firing already)."""
    per = _seconds(results)
    last = max(per) if per else 0
    total = sum(r for r, _ in per.values())
    rate = total / max(results.wall_s, 1.0)
    allowed = slos.error_budget
    judged = []
    ordered = list(runs)
    for index, run in enumerate(ordered):
        following = [r.injected_at for r in ordered[index + 1 :]]
        start = max(0, int(run.injected_at - results.started_at))
        end_of_experiment = math.ceil(run.ended_at - results.started_at)
        recovered = _recovery(per, start, last, allowed)
        settled = min(end_of_experiment + FAULT_TAIL_S, last + 1)
        window_end = max(settled, recovered if recovered is not None else last + 1)
        inside = [per.get(s, (0, 0)) for s in range(start, window_end)]
        failures = sum(f for _, f in inside)
        budget = _budget_pct(failures, rate, slos)
        ttr = None if recovered is None else float(recovered - start)
        reasons = []
        if ttr is None:
            reasons.append("errors never fell back within the objective before the run ended")
        elif ttr > spec.max_recovery_s:
            reasons.append(f"recovered in {ttr:g}s, more than {spec.max_recovery_s:g}s")
        if budget > spec.max_budget_pct:
            reasons.append(
                f"burned {budget:.2f}% of the {slos.time_window} error budget, "
                f"more than {spec.max_budget_pct:g}%"
            )
        reasons += _experiment_reasons(run)
        chats = lost = doubled = 0
        if audit is not None:
            origin = results.started_at
            chats, lost, doubled = audit.window(origin + start, origin + window_end)
            if chats < MIN_CHATS_PER_WINDOW:
                reasons.append(
                    f"only {chats} chats started in its window, fewer than "
                    f"{MIN_CHATS_PER_WINDOW} to show whether it loses messages"
                )
            if lost or doubled:
                reasons.append(f"messages in its window: {lost} lost, {doubled} duplicated")
        broken = _broken(results, slos, start, window_end)
        # The next fault's seconds are the next fault's, for what is due as for what fired.
        due_end = min([window_end, *(math.floor(t - results.started_at) for t in following)])
        due = due_alerts(results, slos, start, due_end, alert_scale)
        fired: tuple[AlertRecord, ...] = ()
        if alerts is not None:
            # Until the grace after the window ends, but never into the next fault's time.
            until = min([results.started_at + window_end + DETECT_GRACE_S, *following])
            fired = fault_alerts(
                alerts, origin=results.started_at, injected=run.injected_at, until=until,
                objectives={(d.journey, d.objective) for d in due} | split_objectives(broken),
            )  # fmt: skip
            reasons += silent(due, {(a.journey, a.objective) for a in fired})
        judged.append(
            FaultResult(
                experiment=run.experiment,
                injected_s=round(run.injected_at - results.started_at, 1),
                window_s=(start, window_end),
                time_to_recover_s=ttr,
                failures=failures,
                requests=sum(r for r, _ in inside),
                budget_consumed_pct=round(budget, 4),
                hypothesis=run.hypothesis,
                failed_probes=run.failed_probes,
                failed_checks=run.failed_checks,
                rollbacks_ok=run.rollbacks_ok,
                passed=not reasons,
                reasons=tuple(reasons),
                chats=chats,
                lost=lost,
                duplicated=doubled,
                broken=broken,
                alerts=fired,
                due=tuple(f"{d.alert} {d.journey} {d.objective}" for d in due),
            )
        )
    return judged


def _experiment_reasons(run: FaultRun) -> list[str]:
    """What went wrong with the experiment itself."""
    reasons = []
    if run.status != "completed":
        reasons.append(f"the experiment {run.status}")
    if run.hypothesis != "held":
        probes = ", ".join(run.failed_probes) or "see its journal"
        reasons.append(f"steady-state hypothesis {run.hypothesis} ({probes})")
    if run.failed_checks:
        reasons.append("failed while the fault lasted: " + ", ".join(run.failed_checks))
    if not run.rollbacks_ok:
        reasons.append("a rollback failed")
    return reasons


def _broken(results: RunResults, slos: Environment, start: int, end: int) -> tuple[str, ...]:
    """The objectives the seconds ``start`` to ``end`` break on their own (error ratio above the
    budget, or a latency percentile above its threshold; too few requests is no break here)."""
    broken = []
    for verdict in _judge_seconds(results, slos, lambda s: start <= s < end, "in the window"):
        if verdict.error_ratio > verdict.allowed_error_ratio:
            broken.append(f"{verdict.journey} {AVAILABILITY}")
        broken += [
            f"{verdict.journey} {latency_objective(c.percentile)}"
            for c in verdict.latency
            if not c.passed
        ]
    return tuple(broken)


def _judge_seconds(
    results: RunResults, slos: Environment, keep: Callable[[int], bool], where: str
) -> list[Judgement]:
    """Each journey the definition judges, on the timeline's seconds that ``keep`` accepts."""
    cells: dict[str, list[TimelineCell]] = {}
    for second, name, cell in results.timeline:
        if keep(second):
            cells.setdefault(name, []).append(cell)
    verdicts = []
    for journey, entries in JOURNEY_ENTRIES.items():
        if journey not in slos.journeys:
            continue
        mine = [c for e in entries for c in cells.get(e, [])]
        hist = merge(c.response_times for c in mine)
        verdicts.append(
            judge(
                journey,
                sum(c.requests for c in mine),
                sum(c.failures for c in mine),
                lambda q, h=hist: percentile(h, q),  # type: ignore[misc]
                slos,
                where=where,
            )
        )
    return verdicts


def judge_slos(
    results: RunResults, profile: Environment, excluded: Iterable[tuple[int, int]]
) -> list[SloResult]:
    """Each judged journey on the seconds outside ``excluded`` windows (:func:`slos.evaluate.judge`:
    availability, P99 and P95)."""
    windows = list(excluded)
    verdicts = _judge_seconds(
        results,
        profile,
        lambda s: not any(a <= s < b for a, b in windows),
        "in steady state",
    )
    return [
        SloResult(
            journey=v.journey,
            requests=v.requests,
            failures=v.failures,
            p99_ms=v.measured(0.99),
            target_p99_ms=profile.journeys[v.journey].threshold(0.99),
            p95_ms=v.measured(0.95),
            target_p95_ms=profile.journeys[v.journey].threshold(0.95),
            error_ratio=round(v.error_ratio, 6),
            allowed_error_ratio=round(v.allowed_error_ratio, 9),
            passed=v.passed,
            reasons=v.reasons,
        )
        for v in verdicts
    ]


def score(
    results: RunResults,
    runs: list[FaultRun],
    audit: Audit,
    *,
    profile_name: str,
    profile: Environment,
    spec: VerifySpec,
    not_run: Iterable[str] = (),
    alerts: Sequence[AlertSpan] | None = None,
    alerting: dict[str, Any] | None = None,
) -> Scorecard:
    """The whole verdict; ``not_run`` are the planned faults that could not start before the
    load ended; ``alerts`` every alert notified during the run, ``alerting`` how it was watched
    (the rules' scale), for the report."""
    missed = tuple(not_run)
    faults = judge_faults(results, runs, spec, profile, audit=audit, alerts=alerts)
    warmup = (0, math.ceil(spec.warmup_s))
    slos = judge_slos(results, profile, [warmup, *(f.window_s for f in faults)])
    per = _seconds(results)
    requests = sum(r for r, _ in per.values())
    failures = sum(f for _, f in per.values())
    rate = requests / max(results.wall_s, 1.0)
    reasons = [f"SLO {s.journey}: {'; '.join(s.reasons)}" for s in slos if not s.passed]
    reasons += [f"fault {f.experiment}: {'; '.join(f.reasons)}" for f in faults if not f.passed]
    reasons += [f"fault {name}: did not run, the load ended first" for name in missed]
    if audit.lost or audit.duplicated:
        reasons.append(f"messages: {audit.lost} lost, {audit.duplicated} duplicated")
    if audit.chats == 0:
        reasons.append("messages: no chat completed a round trip to judge")
    messages = audit.summary()
    return Scorecard(
        passed=not reasons,
        profile=profile_name,
        availability=profile.availability,
        time_window=profile.time_window,
        run_s=round(results.wall_s, 1),
        requests=requests,
        failures=failures,
        budget_consumed_pct=round(_budget_pct(failures, rate, profile), 4),
        slos=tuple(slos),
        faults=tuple(faults),
        not_run=missed,
        messages=messages,
        reasons=tuple(reasons),
        alerting=alerting or {},
    )

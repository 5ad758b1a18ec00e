"""Which alerts a fault fired, and which its failures made due: the alert half of a fault's
verdict, pure arithmetic over the notifications and the load's timeline.

An alert is **due** when its own condition (both windows burning faster than its factor, at the
rules' scale) comes to hold on what the load generator saw during the fault; a fault whose due
alert found no alert on that objective (new, or already firing) fails. Only availability is
checked: the generator's latencies include its own queueing and the proxy, the server's do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loadtests.common.names import JOURNEY_ENTRIES
from loadtests.results import RunResults
from slos.definition import BURN_ALERTS, Environment
from slos.rules import ALERT_PREFIX, AVAILABILITY

from .alerting import AlertSpan


@dataclass(frozen=True)
class AlertRecord:
    """One alert a fault fired, as Alertmanager notified it."""

    name: str
    """The alert (``SloErrorBudgetBurnPage1h``)."""
    journey: str
    """The journey whose objective burned."""
    objective: str
    """``availability``, ``latency_p99``..."""
    severity: str
    """``page`` or ``ticket``."""
    fired_at_s: float
    """Seconds into the load run the firing notification arrived."""
    time_to_detect_s: float | None
    """From the fault's injection to that notification; None when the alert was already firing
    when the fault began (it could not fire again)."""
    resolved_at_s: float | None
    """Seconds into the run the resolved notification arrived; None: not before the run ended."""


def fault_alerts(
    alerts: Sequence[AlertSpan],
    *,
    origin: float,
    injected: float,
    until: float,
    objectives: set[tuple[str, str]],
) -> tuple[AlertRecord, ...]:
    """The alerts that became active from ``injected`` to ``until`` (epoch seconds), and those of
    the fault's ``objectives`` (journey, objective) already active then (they cannot fire
    again)."""
    found = []
    for span in alerts:
        new = injected <= span.active_at <= until
        ongoing = (
            span.active_at < injected
            and (span.journey, span.objective) in objectives
            and (span.resolved_at is None or span.resolved_at > injected)
        )
        if new or ongoing:
            found.append(
                AlertRecord(
                    name=span.name,
                    journey=span.journey,
                    objective=span.objective,
                    severity=span.severity,
                    fired_at_s=round(span.notified_at - origin, 1),
                    time_to_detect_s=round(span.notified_at - injected, 1) if new else None,
                    resolved_at_s=None
                    if span.resolved_at is None
                    else round(span.resolved_at - origin, 1),
                )
            )
    return tuple(found)


@dataclass(frozen=True)
class DueAlert:
    """An alert the load's own numbers say should fire: its condition held at some second."""

    alert: str
    journey: str
    objective: str
    why: str
    """The burn rates that met the condition."""


def silent(due: list[DueAlert], covered: set[tuple[str, str]]) -> list[str]:
    """One reason per objective whose due alerts found no alert on it."""
    missing: dict[tuple[str, str], list[DueAlert]] = {}
    for d in due:
        if (d.journey, d.objective) not in covered:
            missing.setdefault((d.journey, d.objective), []).append(d)
    return [
        f"{journey} {objective} burned its budget past the threshold of "
        f"{', '.join(d.alert for d in found)} ({found[0].why}) and no alert on it fired"
        for (journey, objective), found in missing.items()
    ]


def split_objectives(broken: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(j, o) for j, _, o in (b.partition(" ") for b in broken)}


def due_alerts(
    results: RunResults, slos: Environment, start: int, end: int, scale: float
) -> list[DueAlert]:
    """The burn-rate alerts on availability objectives whose condition came to hold at a second
    from ``start`` to ``end`` (one that already held the second before is an earlier cause's):
    both windows (scaled, trailing, clipped to the run) with an error ratio above the alert's
    factor times the budget, counted from what the load generator saw. Latency
    is left out: the generator's times include its own queueing and the proxy, the server's do
    not, so only failures are the same event on both sides."""
    per: dict[str, dict[int, tuple[int, int]]] = {}
    entry_journey = {e: j for j, entries in JOURNEY_ENTRIES.items() for e in entries}
    for second, name, cell in results.timeline:
        journey = entry_journey.get(name)
        if journey in slos.journeys:
            r, f = per.setdefault(journey, {}).get(second, (0, 0))
            per[journey][second] = (r + cell.requests, f + cell.failures)
    due: list[DueAlert] = []
    for journey, seconds in per.items():
        for alert in BURN_ALERTS:
            long_s, short_s = (max(1, round(w * scale)) for w in (alert.long_s, alert.short_s))
            windows, budget = (long_s, short_s), slos.error_budget
            held = start > 0 and bool(_exceeded(seconds, start - 1, windows, alert.factor, budget))
            for s in range(start, end):
                rates = _exceeded(seconds, s, windows, alert.factor, budget)
                now = bool(rates)
                if now and not held:
                    why = f"{rates[0]:.1f}x over {long_s} s and {rates[1]:.1f}x over {short_s} s"
                    due.append(DueAlert(ALERT_PREFIX + alert.name, journey, AVAILABILITY, why))
                    break
                held = now
    return due


def _exceeded(
    seconds: dict[int, tuple[int, int]],
    at: int,
    windows: tuple[int, int],
    factor: float,
    budget: float,
) -> list[float]:
    """Both windows' burn rates at second ``at`` when both exceed ``factor``; else empty."""
    rates = [_burn(seconds, at, w, budget) for w in windows]
    exceeded = all(r is not None and r > factor for r in rates)
    return [r for r in rates if r is not None] if exceeded else []


def _burn(seconds: dict[int, tuple[int, int]], at: int, window: int, budget: float) -> float | None:
    """Error ratio over the ``window`` seconds ending at ``at``, over the budget (None: no
    requests)."""
    cells = [seconds.get(s, (0, 0)) for s in range(at - window + 1, at + 1)]
    requests = sum(r for r, _ in cells)
    return None if requests == 0 else sum(f for _, f in cells) / requests / budget

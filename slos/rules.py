"""Prometheus rules generated from the definition: a recording rule per indicator and window,
burn rates, and the SRE workbook's multiwindow, multi-burn-rate alerts.

For each judged journey and each of its objectives (``availability``, and ``latency_p99`` and the
like), with ``W`` each alert window (and the SLO's own time window):

- ``slo:sli_error:ratio_rate<W>``: the share of bad requests over ``W`` (failures; or requests
  slower than the threshold, counted from the histogram bucket at the threshold);
- ``slo:burn_rate:ratio_rate<W>``: that share over the error budget (1.0 spends the budget exactly
  over the time window);
- alerts ``SloErrorBudgetBurn<Page1h|Page6h|Ticket3d>``: both of an alert's windows burn faster
  than its factor.

Labels ``slo_journey``, ``slo_objective`` and ``slo_env`` tell the series apart. ``scale``
multiplies every window (verify runs them at 1/60: an hour becomes a minute, as its report says);
``interval`` is the groups' evaluation interval. A window without traffic has no ratio (0/0), so
it never fires an alert and never reads as healthy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from .definition import BURN_ALERTS, BurnAlert, Environment, prom_duration
from .errors import SloError
from .sli import Sli, sli

RATIO = "slo:sli_error:ratio_rate"
"""Prefix of the error-ratio recording rules (the window follows: ``...ratio_rate5m``)."""

BURN = "slo:burn_rate:ratio_rate"
"""Prefix of the burn-rate recording rules."""

ALERT_PREFIX = "SloErrorBudgetBurn"
"""Prefix of the alert names (``SloErrorBudgetBurnPage1h``)."""

AVAILABILITY = "availability"
"""The ``slo_objective`` label of an availability objective."""


@dataclass(frozen=True)
class Objective:
    """One objective of one journey, as the rules see it."""

    journey: str
    objective: str
    """``availability`` or ``latency_p99``..."""
    budget: float
    """Share of requests allowed to be bad."""
    bad: str
    """PromQL of the bad requests' rate over ``[W]`` (``W`` is a placeholder)."""
    total: str
    """PromQL of all requests' rate over ``[W]``."""

    @property
    def labels(self) -> dict[str, str]:
        """The labels its series carry (without ``slo_env``)."""
        return {"slo_journey": self.journey, "slo_objective": self.objective}


def latency_objective(percentile: float) -> str:
    """The ``slo_objective`` label of a latency objective: ``latency_p99`` for 0.99."""
    return f"latency_p{percentile * 100:g}".replace(".", "_")


def _rate(selector: str) -> str:
    return f"sum(rate({selector}[W]))"


def _rate_or_zero(selector: str) -> str:
    """A rate that is 0, not absent, while no such request has been seen (no 5xx yet)."""
    return f"(sum(rate({selector}[W])) or vector(0))"


def _with(selector: str, matcher: str) -> str:
    return selector[:-1] + f",{matcher}}}" if selector.endswith("}") else f"{selector}{{{matcher}}}"


def objectives(slos: Environment) -> list[Objective]:
    """Every objective of every judged journey, in the definition's order."""
    found = []
    for journey, target in slos.journeys.items():
        series: Sli = sli(slos.indicators, journey)
        found.append(
            Objective(
                journey,
                AVAILABILITY,
                slos.error_budget,
                _rate_or_zero(series.errors),
                _rate(series.requests),
            )
        )
        for latency in target.latency:
            if not series.has_bound(latency.threshold_ms):
                raise SloError(
                    f"{journey}: the {latency.threshold_ms:g} ms threshold is not a bucket bound "
                    f"of {series.buckets} ({', '.join(f'{b:g}' for b in series.bounds)})",
                    hint="choose a threshold at a bucket bound, or add the bound to the histogram",
                )
            fast = _rate(_with(series.buckets, f'le="{series.le(latency.threshold_ms)}"'))
            every = _rate(_with(series.buckets, 'le="+Inf"'))
            found.append(
                Objective(
                    journey,
                    latency_objective(latency.percentile),
                    latency.error_budget,
                    f"({every} - {fast})",
                    every,
                )
            )
    return found


def windows(slos: Environment, scale: float = 1.0) -> list[str]:
    """The recorded windows as Prometheus durations, shortest first: every alert window (the
    SLO's time window is :func:`period_window`). The same for every environment."""
    seconds = {a.long_s for a in BURN_ALERTS} | {a.short_s for a in BURN_ALERTS}
    ordered = sorted({s * scale for s in seconds})
    return [prom_duration(s) for s in ordered]


def alert_windows(alert: BurnAlert, scale: float = 1.0) -> tuple[str, str]:
    """``alert``'s long and short windows at ``scale``, as the rules name them (``1h``, ``5m``)."""
    return prom_duration(alert.long_s * scale), prom_duration(alert.short_s * scale)


def shortest_window(scale: float = 1.0) -> str:
    """The shortest window recorded at ``scale`` (the fastest page's short window: ``5m``, or
    ``5s`` at 1/60): its rules are the first to show that the rules are evaluated and see
    requests."""
    return prom_duration(min(a.short_s for a in BURN_ALERTS) * scale)


def period_window(slos: Environment, scale: float = 1.0) -> str:
    """The SLO's time window, scaled, as a Prometheus duration."""
    return prom_duration(slos.window_s * scale)


def _round(value: float) -> str:
    return f"{value:.10g}"


def generate(
    env: str, slos: Environment, *, scale: float = 1.0, interval: str = "30s"
) -> dict[str, Any]:
    """The rule file (``groups:``) for environment ``env``."""
    if scale <= 0:
        raise SloError(f"the window scale must be positive, got {scale}")
    recorded = windows(slos, scale)
    shortest = recorded[0]
    period = period_window(slos, scale)
    records: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    for obj in objectives(slos):
        labels = {**obj.labels, "slo_env": env}
        for window in recorded:
            records.append(
                {
                    "record": RATIO + window,
                    "expr": f"{obj.bad.replace('[W]', f'[{window}]')} / "
                    f"{obj.total.replace('[W]', f'[{window}]')}",
                    "labels": labels,
                }
            )
        records.append(
            {
                "record": RATIO + period,
                "expr": f"avg_over_time({RATIO}{shortest}{_selector(labels)}[{period}])",
                "labels": labels,
            }
        )
        for window in [*recorded, period]:
            records.append(
                {
                    "record": BURN + window,
                    "expr": f"{RATIO}{window}{_selector(labels)} / {_round(obj.budget)}",
                    "labels": labels,
                }
            )
        for alert in BURN_ALERTS:
            long_w, short_w = alert_windows(alert, scale)
            alerts.append(
                {
                    "alert": ALERT_PREFIX + alert.name,
                    "expr": f"{BURN}{long_w}{_selector(labels)} > {_round(alert.factor)} and "
                    f"{BURN}{short_w}{_selector(labels)} > {_round(alert.factor)}",
                    "labels": {**labels, "severity": alert.severity},
                    "annotations": {
                        "summary": f"{env} {obj.journey} {obj.objective}: error budget burning "
                        f"faster than {alert.factor:g}x",
                        "description": (
                            f"{obj.journey}'s {obj.objective} objective (budget "
                            f"{obj.budget:.4%} of requests over {slos.time_window}) burns at "
                            f'{{{{ $value | printf "%.1f" }}}}x over {long_w}, and above '
                            f"{alert.factor:g}x over {short_w} too."
                        ),
                    },
                }
            )
    return {
        "groups": [
            {"name": f"librechat-slo-{env}-sli", "interval": interval, "rules": records},
            {"name": f"librechat-slo-{env}-alerts", "interval": interval, "rules": alerts},
        ]
    }


def _selector(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def burn_rate_selector(env: str, window: str = "1h", journey: str = "") -> str:
    """Series selector of the burn rates over ``window`` of ``env``'s objectives (one journey's
    when given): the guard asks for their samples' timestamps, to refuse a stale reading."""
    matchers = [f'slo_env="{env}"'] + ([f'slo_journey="{journey}"'] if journey else [])
    return f"{BURN}{window}{{{','.join(matchers)}}}"


def burn_rate_query(env: str, window: str = "1h", journey: str = "") -> str:
    """PromQL of the highest burn rate over ``window`` across ``env``'s objectives (one journey's
    when given): what the ChaosSchedule guard reads."""
    return f"max({burn_rate_selector(env, window, journey)})"


def age_query(selector: str) -> str:
    """PromQL of the age, in seconds, of each series of ``selector``: how long ago its last sample
    was written (a recording rule's last evaluation). Prometheus keeps answering with a series'
    last sample for 5 minutes after it stopped being written (the query lookback), so the value
    alone cannot tell a rule that stopped (https://prometheus.io/docs/prometheus/latest/querying/
    basics/#staleness); ``timestamp()`` can."""
    return f"time() - timestamp({selector})"


def alerts_selector(
    env: str, severities: tuple[str, ...] = (), journey: str = "", state: str = "firing"
) -> str:
    """Selector of the generated burn-rate alerts of ``env`` in Prometheus' ``ALERTS`` series, in
    ``state`` (``firing`` or ``pending``), of the given ``severities`` (all when empty) and
    ``journey`` (all when empty)."""
    matchers = [
        f'alertstate="{state}"',
        f'alertname=~"{ALERT_PREFIX}.*"',
        f'slo_env="{env}"',
    ]
    if severities:
        matchers.append(f'severity=~"{"|".join(severities)}"')
    if journey:
        matchers.append(f'slo_journey="{journey}"')
    return f"ALERTS{{{','.join(matchers)}}}"


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(document: dict[str, Any]) -> str:
    """YAML text of a rule file (or a promtool test file), without anchors, in written order."""
    return yaml.dump(document, Dumper=_NoAliases, sort_keys=False, width=1000)

"""SLO probes: whether an environment's SLOs hold, read from the generated Prometheus rules.

The probes judge nothing themselves. The SLO definition (``slos/slos.yaml``) becomes recording
rules and the multiwindow, multi-burn-rate alerts of DESIGN.md §4 (:mod:`slos.rules`,
``librechat-ops slo rules --env ENV``); Prometheus evaluates them; the probes read
``slo:burn_rate:ratio_rate<W>{slo_env=ENV}`` and the ``ALERTS`` of
``SloErrorBudgetBurn{Page1h,Page6h,Ticket3d}``. They fail closed: rules that are not loaded, no
longer evaluated, or that see no request make the SLO not hold (and :func:`burn_rate` raise
``NoDataError``), because a steady state that cannot be observed is not a steady state. An
unreachable Prometheus raises ``UnreachableError``.

Every probe reads Prometheus' URL from the ``prometheus_url`` configuration key (experiments set
it from env ``LIBRECHAT_PROMETHEUS_URL``; default the local platform's, http://127.0.0.1:9090).
``scale`` is the window scale the rules were generated with (``verify`` runs them at 1/60, where
an hour's window is a minute's): it names the recorded windows.

No ``from __future__ import annotations`` here, and no keyword-only parameters: ``chaos discover``
reads the real annotations and lists only positional-or-keyword parameters.
"""

import logging
import re
from typing import Any

from slos import rules
from slos.definition import BURN_ALERTS, JOURNEYS

from ..errors import ChaosError
from .prometheus import NoDataError, alert_rules, finite, prometheus_url, query_vector

__all__ = ["burn_rate", "slo_holds", "slo_status"]

logger = logging.getLogger("chaostoolkit")

_WINDOW = re.compile(r"^(?:[0-9]+(?:ms|[smhdwy]))+$")


def burn_rate(
    env: str = "laptop",
    window: str = "1h",
    journey: str = "",
    max_age_s: float = 120.0,
    configuration: dict[str, Any] | None = None,
) -> float:
    """The highest error-budget burn rate over ``window`` across ``env``'s objectives (one
    ``journey``'s when given): ``max(slo:burn_rate:ratio_rate<window>{slo_env=env})``.

    1.0 spends the budget exactly over the SLO's time window; the fastest page fires above 14.4
    over 1 h and 5 min. ``window`` is one the rules record (at scale 1: 5m, 30m, 1h, 6h, 3d, or
    the SLO's 30d). Raises NoDataError when the rule has no series (not loaded, or nothing it
    reads is scraped), when it was last evaluated more than ``max_age_s`` ago, or when it is not
    a number (no request in the window).
    """
    _check(env, journey, max_age_s)
    if not isinstance(window, str) or not _WINDOW.match(window):
        raise ChaosError(
            f"window {window!r} is not a Prometheus duration",
            hint="write a window the rules record, like 5m, 1h or 6h",
        )
    base = prometheus_url(configuration)
    selector = rules.burn_rate_selector(env, window, journey)
    problem = _freshness(base, selector, max_age_s)
    if problem:
        raise NoDataError(problem, hint=_rules_hint(env))
    samples = query_vector(base, rules.burn_rate_query(env, window, journey))
    value = finite(samples[0][1]) if samples else None
    if value is None:
        raise NoDataError(
            f"no requests over the last {window}: {selector} is not a number",
            hint="is traffic reaching the service, and does Prometheus scrape it (up == 1)?",
        )
    return value


def slo_status(
    env: str = "laptop",
    severities: str = "page",
    journey: str = "",
    max_age_s: float = 120.0,
    scale: float = 1.0,
    configuration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Whether ``env``'s SLOs hold now, with the reasons, as the generated rules say: a dict
    with holds, reasons, alerts (name, journey, objective, severity of each firing one) and
    burn_rates (window -> highest burn rate, None without requests).

    They hold when the burn-rate rules of ``env`` (one ``journey``'s when given) have series,
    were evaluated within ``max_age_s``, see requests over their shortest window, the burn-rate
    alerts of the comma-separated ``severities`` (``page``, ``ticket``) are loaded, and none of
    them fires. ``scale``: the window scale the rules were generated with.
    """
    wanted = _severities(severities)
    _check(env, journey, max_age_s)
    if not (isinstance(scale, int | float) and scale > 0):
        raise ChaosError(
            f"scale must be a positive number, got {scale!r}",
            hint="give the scale the rules were generated with: 1, or e.g. 0.0166 for 1/60",
        )
    base = prometheus_url(configuration)
    shortest = rules.shortest_window(scale)
    problem = _freshness(base, rules.burn_rate_selector(env, shortest, journey), max_age_s)
    reasons = [f"{problem} ({_rules_hint(env)})"] if problem else []
    windows = [shortest] + [
        w
        for alert in BURN_ALERTS
        if alert.severity in wanted
        for w in rules.alert_windows(alert, scale)
        if w != shortest
    ]
    burn_rates = {w: _highest(base, env, w, journey) for w in windows}
    if not problem and burn_rates[shortest] is None:
        reasons.append(
            f"no requests over the last {shortest}: every objective's burn rate is not a number"
        )
    reasons += _unloaded(base, env, wanted, journey)
    firing = _firing(base, env, wanted, journey)
    reasons += [
        f"{a['name']} ({a['severity']}) firing: {a['journey']} {a['objective']} burns its "
        "error budget too fast"
        for a in firing
    ]
    for reason in reasons:
        logger.warning("SLO of %s does not hold: %s", env, reason)
    return {"holds": not reasons, "reasons": reasons, "alerts": firing, "burn_rates": burn_rates}


def slo_holds(
    env: str = "laptop",
    severities: str = "page",
    journey: str = "",
    max_age_s: float = 120.0,
    scale: float = 1.0,
    configuration: dict[str, Any] | None = None,
) -> bool:
    """True when ``env``'s SLOs hold now (see :func:`slo_status`); use it with tolerance
    ``true``."""
    status = slo_status(env, severities, journey, max_age_s, scale, configuration)
    return bool(status["holds"])


def _freshness(base: str, selector: str, max_age_s: float) -> str:
    """Why the series of ``selector`` cannot be trusted (none, or too old), or ``""``."""
    ages = query_vector(base, rules.age_query(selector))
    if not ages:
        return f"no series {selector} in Prometheus at {base}"
    oldest = max(age for _, age in ages)
    if oldest > max_age_s:
        return (
            f"{selector} was last evaluated {oldest:.0f} s ago (limit {max_age_s:g} s): "
            "the rules are no longer evaluated"
        )
    return ""


def _highest(base: str, env: str, window: str, journey: str) -> float | None:
    samples = query_vector(base, rules.burn_rate_query(env, window, journey))
    return finite(samples[0][1]) if samples else None


def _unloaded(base: str, env: str, wanted: tuple[str, ...], journey: str) -> list[str]:
    """Why the generated alerts of ``wanted`` severities cannot fire, or nothing."""
    loaded = [
        rule
        for rule in alert_rules(base)
        if str(rule.get("name", "")).startswith(rules.ALERT_PREFIX)
        and rule.get("labels", {}).get("slo_env") == env
        and rule.get("labels", {}).get("severity") in wanted
        and (not journey or rule.get("labels", {}).get("slo_journey") == journey)
    ]
    if not loaded:
        return [
            f"no {rules.ALERT_PREFIX}* alert of severity {'/'.join(wanted)} for {env} is loaded "
            f"in Prometheus at {base} ({_rules_hint(env)})"
        ]
    return [
        f"{rule['name']} for {rule['labels'].get('slo_journey')} cannot be evaluated: "
        f"{rule.get('lastError') or rule['health']}"
        for rule in loaded
        if rule.get("health") == "err"
    ]


def _firing(base: str, env: str, wanted: tuple[str, ...], journey: str) -> list[dict[str, Any]]:
    samples = query_vector(base, rules.alerts_selector(env, wanted, journey))
    found = [
        {
            "name": labels.get("alertname", ""),
            "journey": labels.get("slo_journey", ""),
            "objective": labels.get("slo_objective", ""),
            "severity": labels.get("severity", ""),
        }
        for labels, _ in samples
    ]
    return sorted(found, key=lambda a: (a["journey"], a["objective"], a["name"]))


def _rules_hint(env: str) -> str:
    return (
        f"are the generated rules loaded (librechat-ops slo rules --env {env}), at the scale "
        "asked, and are the services they read scraped?"
    )


def _check(env: str, journey: str, max_age_s: float) -> None:
    if not isinstance(env, str) or not env or any(c in env for c in '"\\\n{}'):
        raise ChaosError(
            f"env {env!r} is not an SLO environment name",
            hint="give the environment the rules were generated for: laptop, staging, production",
        )
    if journey and journey not in JOURNEYS:
        raise ChaosError(
            f"journey {journey!r} is not a journey",
            hint=f"choose one of {', '.join(JOURNEYS)}, or none for every journey",
        )
    if not (isinstance(max_age_s, int | float) and max_age_s > 0):
        raise ChaosError(f"max_age_s must be a positive number of seconds, got {max_age_s!r}")


def _severities(severities: str) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(s.strip() for s in str(severities).split(",") if s.strip()))
    known = {a.severity for a in BURN_ALERTS}
    if not wanted or set(wanted) - known:
        raise ChaosError(
            f"severities {severities!r} must name some of {', '.join(sorted(known))}",
            hint='write e.g. "page" or "page,ticket"',
        )
    return wanted

"""SLO probes read from Prometheus: error ratio, error-budget burn rate, latency quantiles.

Every probe reads Prometheus' URL from the ``prometheus_url`` configuration key (experiments set
it from env ``LIBRECHAT_PROMETHEUS_URL``; default the local platform's, http://127.0.0.1:9090).
The defaults fit the LibreChat API simulator's metrics; every query is overridable. A window with
no traffic is never read as "no errors": the numeric probes raise ``NoDataError`` and
:func:`slo_holds` says the SLO does not hold (unless ``no_data_holds``), because a steady state
that cannot be observed is not a steady state.

No ``from __future__ import annotations`` here, and no keyword-only parameters: ``chaos discover``
reads the real annotations and lists only positional-or-keyword parameters.
"""

import logging
from typing import Any

from slos.definition import BURN_ALERTS, prom_duration

from ..errors import ChaosError
from .prometheus import NoDataError, prometheus_url, query_scalar
from .promql import (
    DURATION_BUCKETS_SELECTOR,
    ERROR_STATUS,
    REQUESTS_SELECTOR,
    errors_and_total,
    quantile_query,
    scaled,
    window_seconds,
)

__all__ = [
    "burn_rate",
    "burn_rate_alerts",
    "error_budget_consumed",
    "error_ratio",
    "latency_quantile",
    "slo_holds",
    "slo_status",
]

logger = logging.getLogger("chaostoolkit")


def error_ratio(
    window: str = "5m",
    selector: str = REQUESTS_SELECTOR,
    error_status: str = ERROR_STATUS,
    errors_query: str = "",
    total_query: str = "",
    configuration: dict[str, Any] | None = None,
) -> float:
    """Fraction of requests that failed over the last ``window`` (0.0 to 1.0).

    Requests are the counter ``selector`` (default: the simulator's
    ``librechat_sim_http_requests_total`` without health checks and scrapes); failures are its
    series whose ``status`` matches the regex ``error_status`` (default ``5..``). Give
    ``errors_query`` and ``total_query`` (PromQL returning one number each) to measure anything
    else. Raises NoDataError when no request was seen in the window.
    """
    base = prometheus_url(configuration)
    errors_q, total_q = _queries(selector, error_status, window, errors_query, total_query)
    total = query_scalar(base, total_q)
    if total is None or total <= 0:
        raise NoDataError(
            f"no requests over the last {window} ({total_q} is {total}): nothing to judge",
            hint="is load running, and does Prometheus scrape the service (up == 1)?",
        )
    errors = query_scalar(base, errors_q) or 0.0
    return min(max(errors / total, 0.0), 1.0)


def burn_rate(
    objective: float = 0.999,
    window: str = "1h",
    selector: str = REQUESTS_SELECTOR,
    error_status: str = ERROR_STATUS,
    errors_query: str = "",
    total_query: str = "",
    configuration: dict[str, Any] | None = None,
) -> float:
    """Error-budget burn rate over ``window``: error ratio / (1 - ``objective``).

    1.0 spends the budget exactly over the SLO period; 14.4 spends a 30-day budget's 2 % in an
    hour. ``objective`` is the availability target, e.g. 0.999. Raises NoDataError when no
    request was seen in the window.
    """
    budget = _budget(objective)
    ratio = error_ratio(window, selector, error_status, errors_query, total_query, configuration)
    return ratio / budget


def error_budget_consumed(
    objective: float = 0.999,
    window: str = "1h",
    period: str = "30d",
    selector: str = REQUESTS_SELECTOR,
    error_status: str = ERROR_STATUS,
    configuration: dict[str, Any] | None = None,
) -> float:
    """Fraction of the SLO ``period``'s error budget spent during the last ``window``.

    burn rate over ``window`` x ``window`` / ``period``: a 30-minute run burning at 14.4x spends
    1 % of a 30-day budget (0.01); 1.0 means the whole period's budget went in the window.
    Raises NoDataError when no request was seen in the window.
    """
    share = window_seconds(window) / window_seconds(period)
    rate = burn_rate(objective, window, selector, error_status, "", "", configuration)
    return rate * share


def burn_rate_alerts(
    objective: float = 0.999,
    scale: float = 1.0,
    selector: str = REQUESTS_SELECTOR,
    error_status: str = ERROR_STATUS,
    severities: str = "page,ticket",
    configuration: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The multi-window multi-burn-rate alerts (:data:`slos.definition.BURN_ALERTS`, DESIGN.md §4)
    and whether each fires now.

    Page at 14.4x over 1 h and 5 min, page at 6x over 6 h and 30 min, ticket at 1x over 3 d and
    6 h; an alert fires when both its windows burn faster than its factor. ``scale`` multiplies
    every window (0.1 turns 5 min into 30 s, for short runs); ``severities`` (comma-separated)
    picks the alerts. Each entry has severity, factor, long_window, short_window, long_burn_rate
    and short_burn_rate (None without traffic), no_data and firing.
    """
    wanted = _severities(severities)
    rows = []
    for alert in (a for a in BURN_ALERTS if a.severity in wanted):
        long_w = scaled(prom_duration(alert.long_s), scale)
        short_w = scaled(prom_duration(alert.short_s), scale)
        rates = [
            _burn_or_none(objective, w, selector, error_status, configuration)
            for w in (long_w, short_w)
        ]
        no_data = any(r is None for r in rates)
        firing = not no_data and all(r is not None and r > alert.factor for r in rates)
        rows.append(
            {
                "severity": alert.severity,
                "factor": alert.factor,
                "long_window": long_w,
                "short_window": short_w,
                "long_burn_rate": rates[0],
                "short_burn_rate": rates[1],
                "no_data": no_data,
                "firing": firing,
            }
        )
    return rows


def latency_quantile(
    quantile: float = 0.99,
    window: str = "5m",
    buckets_selector: str = DURATION_BUCKETS_SELECTOR,
    query: str = "",
    configuration: dict[str, Any] | None = None,
) -> float:
    """The ``quantile`` of request latency over the last ``window``, in seconds.

    Read from the histogram buckets ``buckets_selector`` (default: the simulator's
    ``librechat_sim_http_request_duration_seconds_bucket``), interpolated within a bucket as
    Prometheus' ``histogram_quantile`` does; ``query`` replaces the whole PromQL. Raises
    NoDataError when no request was seen in the window.
    """
    base = prometheus_url(configuration)
    promql = query or quantile_query(quantile, buckets_selector, window)
    value = query_scalar(base, promql)
    if value is None:
        raise NoDataError(
            f"no latency samples over the last {window} ({promql} is empty)",
            hint="is load running, and does Prometheus scrape the service (up == 1)?",
        )
    return value


def slo_status(
    objective: float = 0.999,
    scale: float = 1.0,
    severities: str = "page",
    quantile: float = 0.99,
    latency_threshold_s: float = 0.0,
    latency_window: str = "5m",
    no_data_holds: bool = False,
    selector: str = REQUESTS_SELECTOR,
    buckets_selector: str = DURATION_BUCKETS_SELECTOR,
    error_status: str = ERROR_STATUS,
    configuration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Whether the SLO holds now, with the reasons: a dict with holds, reasons, alerts, latency_s.

    It holds when no burn-rate alert of the comma-separated ``severities`` fires (see
    :func:`burn_rate_alerts`, windows multiplied by ``scale``) and, when ``latency_threshold_s``
    is above 0, the ``quantile`` latency over ``latency_window`` is at most that threshold.
    Without traffic in a window it does not hold, unless ``no_data_holds`` is true.
    """
    reasons: list[str] = []
    alerts = burn_rate_alerts(objective, scale, selector, error_status, severities, configuration)
    for a in alerts:
        where = f"{a['factor']}x over {a['long_window']} and {a['short_window']}"
        if a["firing"]:
            reasons.append(f"{a['severity']} alert firing: error budget burns faster than {where}")
        elif a["no_data"] and not no_data_holds:
            reasons.append(f"no traffic to judge the {where} {a['severity']} alert")
    latency: float | None = None
    if latency_threshold_s > 0:
        try:
            latency = latency_quantile(
                quantile, latency_window, buckets_selector, "", configuration
            )
        except NoDataError:
            if not no_data_holds:
                reasons.append(f"no latency samples over {latency_window}")
        else:
            if latency > latency_threshold_s:
                reasons.append(
                    f"p{quantile * 100:g} latency {latency:.3f} s > {latency_threshold_s} s"
                )
    for reason in reasons:
        logger.warning("SLO does not hold: %s", reason)
    return {"holds": not reasons, "reasons": reasons, "alerts": alerts, "latency_s": latency}


def slo_holds(
    objective: float = 0.999,
    scale: float = 1.0,
    severities: str = "page",
    quantile: float = 0.99,
    latency_threshold_s: float = 0.0,
    latency_window: str = "5m",
    no_data_holds: bool = False,
    selector: str = REQUESTS_SELECTOR,
    buckets_selector: str = DURATION_BUCKETS_SELECTOR,
    error_status: str = ERROR_STATUS,
    configuration: dict[str, Any] | None = None,
) -> bool:
    """True when the SLO holds now (see :func:`slo_status`); use it with tolerance ``true``."""
    status = slo_status(
        objective,
        scale,
        severities,
        quantile,
        latency_threshold_s,
        latency_window,
        no_data_holds,
        selector,
        buckets_selector,
        error_status,
        configuration,
    )
    return bool(status["holds"])


def _queries(
    selector: str, error_status: str, window: str, errors_query: str, total_query: str
) -> tuple[str, str]:
    if bool(errors_query) != bool(total_query):
        raise ChaosError(
            "errors_query and total_query go together",
            hint="give both PromQL expressions, or neither to use selector and error_status",
        )
    if errors_query:
        return errors_query, total_query
    window_seconds(window)
    return errors_and_total(selector, error_status, window)


def _severities(severities: str) -> set[str]:
    wanted = {s.strip() for s in severities.split(",") if s.strip()}
    known = {a.severity for a in BURN_ALERTS}
    if not wanted or wanted - known:
        raise ChaosError(
            f"severities {severities!r} must name some of {', '.join(sorted(known))}",
            hint='write e.g. "page" or "page,ticket"',
        )
    return wanted


def _budget(objective: float) -> float:
    if not 0 < objective < 1:
        raise ChaosError(
            f"objective must be between 0 and 1 (exclusive), got {objective}",
            hint="write availability as a fraction: 0.999 for 99.9 %",
        )
    return 1.0 - objective


def _burn_or_none(
    objective: float,
    window: str,
    selector: str,
    error_status: str,
    configuration: dict[str, Any] | None,
) -> float | None:
    try:
        return burn_rate(objective, window, selector, error_status, "", "", configuration)
    except NoDataError:
        return None

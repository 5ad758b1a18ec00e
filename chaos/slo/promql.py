"""PromQL the SLO probes ask, built from a selector and a window (pure functions, no I/O).

What belongs here: the simulator's metric names (the defaults), window parsing and scaling, and
the query builders. The multiwindow burn-rate alert table is the SLO definition's
(:data:`slos.definition.BURN_ALERTS`).
"""

from __future__ import annotations

from slos.definition import duration_s

from ..errors import ChaosError

REQUESTS_SELECTOR = 'librechat_sim_http_requests_total{route!~"/health|/metrics"}'
"""Requests the simulator served, without health checks and scrapes (loadtests/simulator)."""

DURATION_BUCKETS_SELECTOR = (
    'librechat_sim_http_request_duration_seconds_bucket{route!~"/health|/metrics"}'
)
"""The simulator's request-duration histogram buckets, likewise filtered."""

ERROR_STATUS = "5.."
"""Statuses that spend the error budget (a regex on the ``status`` label): server errors."""

MIN_WINDOW_S = 15
"""Shortest window allowed: three 5 s scrape intervals, enough samples for ``increase``."""


def window_seconds(window: str) -> int:
    """Seconds in a Prometheus duration such as ``5m``, ``1h30m`` or ``90s``."""
    try:
        return duration_s(window) if isinstance(window, str) else duration_s("")
    except ValueError:
        raise ChaosError(
            f"window {window!r} is not a Prometheus duration",
            hint="write it like 30s, 5m, 1h or 1h30m",
        ) from None


def scaled(window: str, scale: float) -> str:
    """``window`` multiplied by ``scale`` (to shorten the alert windows in tests), as ``<n>s``."""
    if scale <= 0:
        raise ChaosError(f"window scale must be positive, got {scale}")
    seconds = round(window_seconds(window) * scale)
    if seconds < MIN_WINDOW_S:
        raise ChaosError(
            f"window {window} scaled by {scale} is {seconds} s, under {MIN_WINDOW_S} s",
            hint="use a larger scale: a window needs a few 5 s scrapes to measure a rate",
        )
    return f"{seconds}s"


def with_matcher(selector: str, matcher: str) -> str:
    """``selector`` plus one label matcher: ``x{a="b"}`` and ``c=~"d"`` give ``x{a="b",c=~"d"}``."""
    selector = selector.strip()
    if selector.endswith("}"):
        head = selector[:-1].rstrip()
        return f"{head}{matcher}}}" if head.endswith("{") else f"{head},{matcher}}}"
    if "{" in selector or not selector:
        raise ChaosError(
            f"cannot add a label matcher to {selector!r}",
            hint='give a plain series selector such as metric{label="value"}',
        )
    return f"{selector}{{{matcher}}}"


def increase(selector: str, window: str) -> str:
    """Total increase of every series of ``selector`` over ``window``."""
    window_seconds(window)
    return f"sum(increase({selector}[{window}]))"


def errors_and_total(selector: str, error_status: str, window: str) -> tuple[str, str]:
    """The error count and request count queries for the error ratio."""
    errors = with_matcher(selector, f'status=~"{error_status}"')
    return increase(errors, window), increase(selector, window)


def quantile_query(q: float, buckets_selector: str, window: str) -> str:
    """The ``q`` quantile of a histogram's buckets over ``window`` (all series together)."""
    if not 0 < q < 1:
        raise ChaosError(f"quantile must be between 0 and 1 (exclusive), got {q}")
    window_seconds(window)
    return f"histogram_quantile({q}, sum by (le) (rate({buckets_selector}[{window}])))"

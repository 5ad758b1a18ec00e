"""A ChaosSchedule's SLO guard: the generated burn-rate rule, read from Prometheus, failing closed.

What belongs here: the guard's one Prometheus request (an instant query, with a short timeout),
its errors, and the verdict on the next runs. The guard reads
``max(slo:burn_rate:ratio_rate<window>{slo_env=<the operator's SLO environment>})`` (one journey's
when the spec names one), the recording rule :func:`slos.rules.generate` writes from the one SLO
definition: no schedule states its own PromQL. Chaos runs only on a reading that is fresh, a
number, and within ``maxBurnRate``; everything else suspends the CronJob with its own verdict:

- ``no-data``: the rule has no series (not loaded, or nothing it reads is scraped);
- ``nan``: the burn rate is not a number (no request in the window: 0/0);
- ``infinite``: the burn rate is infinite;
- ``stale``: a series was last evaluated more than ``maxAgeSeconds`` ago. Prometheus keeps
  answering with a sample for 5 minutes after the rule stopped being evaluated (its lookback),
  so the value alone cannot tell; each series' ``timestamp()`` can;
- ``unreachable``: no answer (refused, timed out);
- ``http-error``: an answer that is not Prometheus' API (a wrong URL, a proxy's error page);
- ``query-error``: Prometheus refused or failed the query;
- ``burning``: the budget burns faster than ``maxBurnRate``.

``open`` lets runs go. ``suspended`` (by spec), ``unguarded`` (no ``sloGuard``) and ``rejected``
(a spec an older CRD let through) do not ask Prometheus.
"""

from __future__ import annotations

import http.client
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slos import definition, rules

from .crds import GUARD_MAX_AGE_S, GUARD_WINDOW, guard_windows
from .kube import OperatorError
from .settings import OperatorSettings


class PrometheusError(OperatorError):
    """The guard could not read its burn rate from Prometheus; ``hint`` says what to check."""

    verdict = "query-error"
    """The guard's verdict when this is why."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class PrometheusUnavailable(PrometheusError):  # noqa: N818 - reads as a state
    """No answer: connection refused, name unknown, or no answer within the timeout."""

    verdict = "unreachable"


class PrometheusHttpError(PrometheusError):
    """An answer that is not Prometheus' query API: an HTTP error without Prometheus' JSON."""

    verdict = "http-error"


class PrometheusQueryError(PrometheusError):
    """Prometheus refused the query (``bad_data``) or failed it (``execution``, ``timeout``)."""

    verdict = "query-error"


@dataclass(frozen=True)
class Sample:
    """One series of an instant vector."""

    labels: dict[str, str]
    """The series' labels."""
    value: float
    """Its value (NaN and ±Inf as Prometheus sends them)."""


def instant(url: str, promql: str, timeout: float) -> list[Sample]:
    """The instant vector ``promql`` evaluates to now, from the Prometheus at ``url``
    (``/api/v1/query``; https://prometheus.io/docs/prometheus/latest/querying/api/)."""
    query = f"{url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    check_url = f"check LIBRECHAT_PROMETHEUS_URL ({url})"
    try:
        with urllib.request.urlopen(query, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise _http_error(exc.code, exc.read(), check_url) from None
    except (OSError, http.client.HTTPException) as exc:  # refused, DNS, timeouts, garbage
        reason = getattr(exc, "reason", exc)
        raise PrometheusUnavailable(
            f"no answer from {url} within {timeout:g} s: {reason}",
            f"is Prometheus running? {check_url}",
        ) from None
    try:
        answer = json.loads(body)
        if answer.get("status") != "success":
            raise _http_error(200, body, check_url)
        data = answer["data"]
        if data["resultType"] != "vector":
            raise PrometheusQueryError(
                f"{promql} gave a {data['resultType']}, not an instant vector",
                "the guard's query must select series",
            )
        return [Sample(dict(r["metric"]), float(r["value"][1])) for r in data["result"]]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise PrometheusHttpError(
            f"{url} answered 200 with something that is not a Prometheus query result: "
            f"{body[:200]!r}",
            check_url,
        ) from None


def _http_error(status: int, body: bytes, check_url: str) -> PrometheusError:
    try:
        answer = json.loads(body)
        kind, error = answer["errorType"], answer["error"]
    except (ValueError, KeyError, TypeError):
        text = body[:200].decode(errors="replace").strip()
        return PrometheusHttpError(
            f"HTTP {status} without Prometheus' answer: {text}",
            f"is that Prometheus' address? {check_url}",
        )
    return PrometheusQueryError(
        f"Prometheus refused the query (HTTP {status}, {kind}): {error}",
        "check Prometheus' log and its query limits (--query.max-samples, --query.timeout)",
    )


@dataclass(frozen=True)
class GuardSpec:
    """A schedule's ``sloGuard``, with the CRD's defaults."""

    max_burn_rate: float = 1.0
    """Highest burn rate runs are allowed at."""
    window: str = GUARD_WINDOW
    """The burn-rate rule read: ``slo:burn_rate:ratio_rate<window>``."""
    journey: str = ""
    """One journey's burn rate; empty: the worst of all."""
    max_age_s: float = GUARD_MAX_AGE_S
    """An older reading is stale."""

    @classmethod
    def from_spec(cls, guard: Mapping[str, Any]) -> GuardSpec:
        """From the spec's ``sloGuard``; a :class:`ValueError` says what an older CRD let
        through that this one refuses."""
        try:
            spec = cls(
                max_burn_rate=float(guard.get("maxBurnRate", 1.0)),
                window=str(guard.get("window", GUARD_WINDOW)),
                journey=str(guard.get("journey", "")),
                max_age_s=float(guard.get("maxAgeSeconds", GUARD_MAX_AGE_S)),
            )
        except (TypeError, ValueError):
            raise ValueError(
                "sloGuard.maxBurnRate and sloGuard.maxAgeSeconds must be numbers"
            ) from None
        if spec.window not in guard_windows():
            raise ValueError(
                f"sloGuard.window {spec.window!r} is not a recorded window "
                f"({', '.join(guard_windows())})"
            )
        if spec.journey and spec.journey not in definition.JOURNEYS:
            raise ValueError(
                f"sloGuard.journey {spec.journey!r} is not a journey "
                f"({', '.join(definition.JOURNEYS)})"
            )
        if not (spec.max_burn_rate >= 0 and spec.max_age_s > 0):
            raise ValueError("sloGuard.maxBurnRate must be >= 0 and maxAgeSeconds > 0")
        return spec


@dataclass(frozen=True)
class Guard:
    """The guard's verdict on the next runs."""

    suspend: bool
    """Whether the CronJob is suspended."""
    verdict: str
    """``open``, ``burning``, ``no-data``, ``nan``, ``infinite``, ``stale``, ``unreachable``,
    ``http-error``, ``query-error`` (see the module), ``suspended`` (by spec), ``unguarded`` or
    ``rejected`` (a spec a schedule may not have): what status reports, and written (with an
    Event) only when it changes."""
    detail: str
    """The numbers or the reason behind the verdict, and what to check (kept with it in
    status, and the Event's message)."""

    @property
    def event_type(self) -> str:
        """``Warning`` when the guard stops runs that the spec wants, else ``Normal``."""
        return "Warning" if self.suspend and self.verdict != "suspended" else "Normal"

    @property
    def event_reason(self) -> str:
        """The Event's reason: ``GuardNoData`` for ``no-data``."""
        return "Guard" + "".join(part.capitalize() for part in self.verdict.split("-"))


def guard_state(spec: Mapping[str, Any], settings: OperatorSettings) -> Guard:
    """The verdict from the spec's own ``suspend`` and its SLO guard."""
    if spec.get("suspend"):
        return Guard(True, "suspended", "suspended by spec")
    guard = spec.get("sloGuard")
    if guard is None:
        return Guard(False, "unguarded", "no SLO guard")
    try:
        limits = GuardSpec.from_spec(guard)
    except ValueError as exc:
        return Guard(True, "rejected", f"{exc}: update the CRD (librechat-ops operator install)")
    return read(limits, settings)


def read(spec: GuardSpec, settings: OperatorSettings) -> Guard:
    """Read the burn rate and judge it; anything but a fresh number within the limit suspends."""
    env, url, timeout = settings.slo_env, settings.prometheus_url, settings.guard_timeout
    selector = rules.burn_rate_selector(env, spec.window, spec.journey)
    try:
        rates = instant(url, rules.burn_rate_query(env, spec.window, spec.journey), timeout)
        ages = instant(url, rules.age_query(selector), timeout)
    except PrometheusError as exc:
        return Guard(True, exc.verdict, f"{exc.message}; runs skipped ({exc.hint})")
    return _judge(spec, env, selector, rates, ages)


def _judge(
    spec: GuardSpec, env: str, selector: str, rates: list[Sample], ages: list[Sample]
) -> Guard:
    """The verdict on the highest burn rate (``rates``) and its series' ages (``ages``)."""
    if not rates or not ages:
        return Guard(
            True,
            "no-data",
            f"no series {selector} in Prometheus: runs skipped (are the generated rules loaded "
            f"(librechat-ops slo rules --env {env}) and the services they read scraped?)",
        )
    oldest = max(s.value for s in ages)
    if oldest > spec.max_age_s:
        return Guard(
            True,
            "stale",
            f"{selector} was last evaluated {oldest:.0f} s ago (limit {spec.max_age_s:g} s): "
            "runs skipped (are the rules still evaluated? see Prometheus' /rules page)",
        )
    rate = rates[0].value
    if math.isnan(rate):
        return Guard(
            True,
            "nan",
            f"the burn rate over {spec.window} is not a number (no requests in the window): "
            "runs skipped until traffic shows the budget",
        )
    if math.isinf(rate):
        sign = "+" if rate > 0 else "-"
        detail = f"the burn rate over {spec.window} is {sign}Inf: runs skipped"
        return Guard(True, "infinite", detail)
    limit = spec.max_burn_rate
    if rate > limit:
        return Guard(
            True,
            "burning",
            f"error budget burning at {rate:.2f}x > {limit:.2f}x over {spec.window}",
        )
    return Guard(False, "open", f"burn rate {rate:.2f}x <= {limit:.2f}x over {spec.window}")

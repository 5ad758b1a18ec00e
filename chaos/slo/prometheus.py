"""The one place the SLO probes talk to Prometheus: instant PromQL queries over plain HTTP.

What belongs here: where Prometheus is (:func:`prometheus_url`), :func:`query_scalar` and the
errors a query can end in. Nothing about SLO arithmetic (that is :mod:`chaos.slo.slo`).
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from localplatform.prometheus import url as local_prometheus_url

from ..errors import ChaosError, NoDataError, UnreachableError

CONFIG_KEY = "prometheus_url"
"""The experiment configuration key holding Prometheus' base URL."""

ENV_VAR = "LIBRECHAT_PROMETHEUS_URL"
"""The environment variable experiments read ``prometheus_url`` from."""

TIMEOUT_S = 10.0
"""Time allowed for one query."""

__all__ = ["NoDataError", "prometheus_url", "query_scalar", "query_vector"]


def prometheus_url(configuration: dict[str, Any] | None) -> str:
    """Prometheus' base URL: the ``prometheus_url`` configuration key, else the local platform's."""
    value = (configuration or {}).get(CONFIG_KEY) or local_prometheus_url()
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ChaosError(
            f"configuration {CONFIG_KEY}={value!r} is not an http(s) URL",
            hint=f'set it like {{"{CONFIG_KEY}": {{"type": "env", "key": "{ENV_VAR}"}}}}',
        )
    return value.rstrip("/")


def query_vector(base_url: str, promql: str) -> list[tuple[dict[str, str], float]]:
    """Evaluate ``promql`` now; one (labels, value) per series of the instant vector/scalar."""
    params = urllib.parse.urlencode({"query": promql})
    request = urllib.request.Request(f"{base_url}/api/v1/query?{params}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        body = _error_body(exc)
        if exc.code in (400, 422):
            raise ChaosError(
                f"Prometheus at {base_url} rejected the query {promql!r}: {body}",
                hint="check the PromQL (selector, window such as 5m, label names)",
            ) from None
        raise UnreachableError(
            f"Prometheus at {base_url} answered HTTP {exc.code} to {promql!r}: {body}",
            hint="check that the URL points at Prometheus itself",
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UnreachableError(
            f"Prometheus at {base_url} does not answer: {reason}",
            hint="start the local platform with `librechat-ops cluster up`, or point the "
            f"`{CONFIG_KEY}` configuration (env {ENV_VAR}) at a running Prometheus",
        ) from None
    data = body.get("data", {}) if isinstance(body, dict) else {}
    kind: Any = data.get("resultType")
    result: Any = data.get("result")
    if kind == "scalar":
        return [({}, float(result[1]))]
    if kind != "vector" or not isinstance(result, list):
        raise ChaosError(
            f"{promql!r} did not evaluate to an instant vector (got {kind})",
            hint="the probes need an expression such as sum(rate(x[5m])), not a range vector",
        )
    return [(dict(item["metric"]), float(item["value"][1])) for item in result]


def query_scalar(base_url: str, promql: str) -> float | None:
    """The value of a single-series ``promql`` now; None when it returns nothing or NaN."""
    samples = query_vector(base_url, promql)
    if not samples:
        return None
    if len(samples) > 1:
        raise ChaosError(
            f"{promql!r} returned {len(samples)} series where one was expected",
            hint="aggregate it, e.g. sum(...)",
        )
    value = samples[0][1]
    return None if math.isnan(value) else value


def _error_body(exc: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(exc.read())
        return str(payload.get("error", payload))
    except (ValueError, OSError):
        return exc.reason or ""

"""The one place the SLO probes talk to Prometheus: its HTTP API, read-only.

What belongs here: where Prometheus is (:func:`prometheus_url`), an instant query
(:func:`query_vector`), the loaded alerting rules (:func:`alert_rules`) and the errors a request
can end in. Nothing about SLOs: the PromQL comes from :mod:`slos.rules`, the verdict from
:mod:`chaos.slo.probes`. API: https://prometheus.io/docs/prometheus/latest/querying/api/
"""

from __future__ import annotations

import http.client
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
"""Time allowed for one request."""

__all__ = ["NoDataError", "alert_rules", "prometheus_url", "query_vector"]


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
    """Evaluate ``promql`` now; one (labels, value) per series of the instant vector (or the
    scalar). Values are floats as Prometheus sends them: NaN and ±Inf included."""
    data = _get(base_url, "query", {"query": promql}, f"the query {promql!r}")
    kind: Any = data.get("resultType")
    result: Any = data.get("result")
    if kind == "scalar":
        return [({}, float(result[1]))]
    if kind != "vector" or not isinstance(result, list):
        raise ChaosError(
            f"{promql!r} did not evaluate to an instant vector (got {kind})",
            hint="the probes need an expression such as max(x), not a range vector",
        )
    return [(dict(item["metric"]), float(item["value"][1])) for item in result]


def alert_rules(base_url: str) -> list[dict[str, Any]]:
    """Every alerting rule Prometheus has loaded (``/api/v1/rules?type=alert``), each with its
    ``name``, ``labels``, ``health`` (``ok``, ``err``, ``unknown``) and ``lastError``."""
    data = _get(base_url, "rules", {"type": "alert"}, "its rules")
    groups: Any = data.get("groups")
    if not isinstance(groups, list):
        raise ChaosError(f"Prometheus at {base_url} listed no rule groups: {data!r:.200}")
    return [rule for group in groups for rule in group.get("rules", [])]


def finite(value: float) -> float | None:
    """``value``, or None when it is not a number (a ratio with no requests: 0/0)."""
    return None if math.isnan(value) else value


def _get(base_url: str, endpoint: str, params: dict[str, str], what: str) -> dict[str, Any]:
    """The ``data`` of Prometheus' answer to ``GET /api/v1/<endpoint>?<params>``."""
    url = f"{base_url}/api/v1/{endpoint}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        error = _error_body(exc)
        if exc.code in (400, 422):
            raise ChaosError(
                f"Prometheus at {base_url} rejected {what}: {error}",
                hint="check the arguments (environment, journey, window such as 5m)",
            ) from None
        raise UnreachableError(
            f"Prometheus at {base_url} answered HTTP {exc.code} to {what}: {error}",
            hint="check that the URL points at Prometheus itself",
        ) from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise UnreachableError(
            f"Prometheus at {base_url} does not answer: {reason}",
            hint="start the local platform with `librechat-ops cluster up`, or point the "
            f"`{CONFIG_KEY}` configuration (env {ENV_VAR}) at a running Prometheus",
        ) from None
    answer: dict[str, Any] = body if isinstance(body, dict) else {}
    data = answer.get("data")
    if answer.get("status") != "success" or not isinstance(data, dict):
        raise UnreachableError(
            f"{base_url} answered {what} with something that is not Prometheus' API: "
            f"{json.dumps(body)[:200]}",
            hint="check that the URL points at Prometheus itself",
        )
    return data


def _error_body(exc: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(exc.read())
        return str(payload.get("error", payload))
    except (ValueError, OSError):
        return exc.reason or ""

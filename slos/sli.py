"""Where each journey's indicators are measured: the request counter, its failures and the
latency histogram, per source of metrics.

- ``simulator``: the LibreChat API simulator (the laptop; a stand-in, as every report says).
  Availability is counted at its front door, haproxy, per route class (requests and 5xx answers
  of each class's backends, :data:`FRONT_CLASSES`), as Kong counts it in the clouds: so the 503s
  the proxy returns while no replica can answer count too. Latency comes from the replicas' own
  ``/metrics``: the request-duration histogram (time to the response headers) and, for the time
  to first token, its own histogram; both are exported at zero from a replica's start.
- ``kong``: Kong's Prometheus plugin in front of LibreChat (staging, production), one Kong route per
  journey named ``librechat-<journey>``; its latencies are in milliseconds. Kong sees a stream's
  headers, not its first token: the first-token time comes from the AI gateway (LiteLLM's
  ``litellm_llm_api_time_to_first_token_metric``).

Every latency threshold of the definition must be a bucket bound of the journey's histogram
(:data:`SIMULATOR_BUCKETS_S`, :data:`KONG_BUCKETS_MS`, :data:`LITELLM_BUCKETS_S`), or the rule
could not count the requests under it; :func:`slos.rules.generate` refuses one that is not.
Kong's counters, unlike the simulator's, appear at a status code's first request, so ``rate``
misses each route's first 5xx (Prometheus' known blind spot for new series).
"""

from __future__ import annotations

from dataclasses import dataclass

from .definition import Indicators

SIMULATOR_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 1.5, 2.5, 5.0, 10.0)
"""Upper bounds of the simulator's latency histograms, seconds (every laptop threshold is one)."""

KONG_BUCKETS_MS = (
    1, 2, 5, 7, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300, 400, 500, 1000, 2000,
    5000, 10000, 30000, 60000,
)  # fmt: skip
"""The fixed bounds of Kong's Prometheus plugin latency histograms, milliseconds (Kong's
``kong/plugins/prometheus/exporter.lua``; the plugin has no option to change them)."""

LITELLM_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 5.0, 10.0, 30.0)
"""The latency buckets the AI gateway's LiteLLM is configured with (``prometheus_latency_buckets``
in its ``litellm_settings``, :mod:`components.gateway`), seconds: LiteLLM's defaults plus 1.5 s,
the seed's time-to-first-token threshold."""


@dataclass(frozen=True)
class Sli:
    """One journey's series."""

    requests: str
    """Counter selector of every request of the journey (all statuses)."""

    errors: str
    """The same counter, failures only."""

    buckets: str
    """Selector of the latency histogram's ``_bucket`` series (without ``le``)."""

    unit_s: float
    """Seconds per unit of the histogram's ``le`` (1.0: seconds; 0.001: milliseconds)."""

    bounds: tuple[float, ...]
    """The histogram's bucket bounds, in its own unit."""

    def le(self, threshold_ms: float) -> str:
        """The ``le`` label value of the bucket at ``threshold_ms``, as the exporter writes it."""
        value = threshold_ms / 1000 / self.unit_s
        return repr(float(value)) if self.unit_s == 1.0 else f"{value:g}"

    def has_bound(self, threshold_ms: float) -> bool:
        """The histogram has a bucket ending exactly at ``threshold_ms``."""
        value = threshold_ms / 1000 / self.unit_s
        return any(abs(b - value) < 1e-9 for b in self.bounds)


_FRONT_REQUESTS = "haproxy_backend_http_requests_total"
_FRONT_RESPONSES = "haproxy_backend_http_responses_total"
_SIM_BUCKETS = "librechat_sim_http_request_duration_seconds_bucket"
_SIM_TTFT = "librechat_sim_chat_first_token_seconds_bucket"
FRONT_CLASSES = {
    "authentication": ("auth_refresh",),
    "login": ("auth_login",),
    "message_delivery": ("convos", "messages", "chat"),
    "ai_inference": ("stream",),
    "time_to_complete": ("stream",),
    "search": ("search",),
    "file_operations": ("files",),
}
"""Journey -> the simulator front's route classes (``librechat_sim.haproxy.ROUTE_CLASSES``), whose
backends (``<class>_<region>``) haproxy counts requests and 5xx answers for."""

_SIM_ROUTES = {
    "authentication": 'route="/api/auth/refresh"',
    "login": 'route="/api/auth/login"',
    "message_delivery": (
        'route=~"/api/convos|/api/messages/\\\\{conversationId\\\\}|/api/agents/chat/\\\\{endpoint\\\\}"'
    ),
    "ai_inference": 'route="/api/agents/chat/stream/{streamId}"',
    "time_to_complete": 'route="/api/agents/chat/stream/{streamId}"',
    "search": 'route="/api/messages"',
    "file_operations": 'route="/api/files"',
}

_KONG_REQUESTS = "kong_http_requests_total"
_KONG_BUCKETS = "kong_request_latency_ms_bucket"


def _simulator(journey: str) -> Sli:
    route = _SIM_ROUTES[journey]
    buckets = (
        f"{_SIM_TTFT}{{{route}}}" if journey == "ai_inference" else f"{_SIM_BUCKETS}{{{route}}}"
    )
    proxies = f'proxy=~"({"|".join(FRONT_CLASSES[journey])})_[a-z]+"'
    return Sli(
        requests=f"{_FRONT_REQUESTS}{{{proxies}}}",
        errors=f'{_FRONT_RESPONSES}{{{proxies},code="5xx"}}',
        buckets=buckets,
        unit_s=1.0,
        bounds=SIMULATOR_BUCKETS_S,
    )


def _kong(journey: str) -> Sli:
    route = f'route="librechat-{journey.replace("_", "-")}"'
    if journey == "ai_inference":
        buckets = "litellm_llm_api_time_to_first_token_metric_bucket"
        return Sli(
            requests=f"{_KONG_REQUESTS}{{{route}}}",
            errors=f'{_KONG_REQUESTS}{{{route},code=~"5.."}}',
            buckets=buckets,
            unit_s=1.0,
            bounds=LITELLM_BUCKETS_S,
        )
    return Sli(
        requests=f"{_KONG_REQUESTS}{{{route}}}",
        errors=f'{_KONG_REQUESTS}{{{route},code=~"5.."}}',
        buckets=f"{_KONG_BUCKETS}{{{route}}}",
        unit_s=0.001,
        bounds=tuple(float(b) for b in KONG_BUCKETS_MS),
    )


def sli(indicators: Indicators, journey: str) -> Sli:
    """The series ``journey``'s indicators are read from, in ``indicators``."""
    return _simulator(journey) if indicators == "simulator" else _kong(journey)

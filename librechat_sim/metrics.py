"""Prometheus metrics of one replica, in the text exposition format (no client library needed)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field

BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 1.5, 2.5, 5.0, 10.0)
"""Upper bounds of the latency histograms, in seconds: every SLO threshold of the laptop
(``slos/slos.yaml``: 25, 50, 100, 200 and 1,500 ms) is one, so the generated rules can count the
requests under it (``slos.sli.SIMULATOR_BUCKETS_S`` is the same list)."""


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_S) + 1))
    total: float = 0.0
    n: int = 0


class Metrics:
    """Counters and a latency histogram labelled by route, method and status."""

    def __init__(self, replica: str) -> None:
        self.replica = replica
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.durations: dict[tuple[str, str], _Histogram] = defaultdict(_Histogram)
        self.errors: dict[tuple[str, str], int] = defaultdict(int)
        self.first_token: _Histogram = _Histogram()
        self.streams_active = 0
        self.takeovers = 0

    def declare(self, route: str, method: str) -> None:
        """Export ``route``'s latency histogram and error counter at zero before its first request:
        Prometheus' ``rate`` cannot see a counter's first increment, so a series that appears at 1
        (a replica's first error) would never count."""
        self.durations.setdefault((route, method), _Histogram())
        self.errors[(route, method)] += 0

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record one finished request."""
        self.requests[(route, method, status)] += 1
        self.errors[(route, method)] += status >= 500
        _add(self.durations[(route, method)], seconds)

    def observe_first_token(self, seconds: float) -> None:
        """Record one stream's first token: seconds from the chat's request to it."""
        _add(self.first_token, seconds)

    def render(self) -> str:
        """The exposition text for ``GET /metrics``."""
        rep = f'replica="{self.replica}"'
        lines = [
            "# HELP librechat_sim_http_requests_total HTTP requests by route, method and status.",
            "# TYPE librechat_sim_http_requests_total counter",
        ]
        for (route, method, status), n in sorted(self.requests.items()):
            labels = f'{rep},route="{route}",method="{method}",status="{status}"'
            lines.append(f"librechat_sim_http_requests_total{{{labels}}} {n}")
        lines += [
            "# HELP librechat_sim_http_errors_total Requests answered with a server error (5xx), "
            "from zero.",
            "# TYPE librechat_sim_http_errors_total counter",
        ]
        for (route, method), n in sorted(self.errors.items()):
            labels = f'{rep},route="{route}",method="{method}"'
            lines.append(f"librechat_sim_http_errors_total{{{labels}}} {n}")
        lines += [
            "# HELP librechat_sim_http_request_duration_seconds Time to the response headers.",
            "# TYPE librechat_sim_http_request_duration_seconds histogram",
        ]
        for (route, method), hist in sorted(self.durations.items()):
            labels = f'{rep},route="{route}",method="{method}"'
            lines += _render("librechat_sim_http_request_duration_seconds", labels, hist)
        lines += [
            "# HELP librechat_sim_chat_first_token_seconds From a chat's request to the first "
            "token its stream delivers.",
            "# TYPE librechat_sim_chat_first_token_seconds histogram",
            *_render(
                "librechat_sim_chat_first_token_seconds",
                f'{rep},route="/api/agents/chat/stream/{{streamId}}"',
                self.first_token,
            ),
            "# HELP librechat_sim_sse_streams_active SSE streams open on this replica.",
            "# TYPE librechat_sim_sse_streams_active gauge",
            f"librechat_sim_sse_streams_active{{{rep}}} {self.streams_active}",
            "# HELP librechat_sim_job_takeovers_total Generation jobs taken over from dead owners.",
            "# TYPE librechat_sim_job_takeovers_total counter",
            f"librechat_sim_job_takeovers_total{{{rep}}} {self.takeovers}",
        ]
        return "\n".join(lines) + "\n"


def _add(hist: _Histogram, seconds: float) -> None:
    hist.counts[bisect.bisect_left(BUCKETS_S, seconds)] += 1
    hist.total += seconds
    hist.n += 1


def _render(name: str, labels: str, hist: _Histogram) -> list[str]:
    lines = []
    cumulative = 0
    for bound, count in zip((*BUCKETS_S, float("inf")), hist.counts, strict=True):
        cumulative += count
        le = "+Inf" if bound == float("inf") else repr(bound)
        lines.append(f'{name}_bucket{{{labels},le="{le}"}} {cumulative}')
    lines.append(f"{name}_sum{{{labels}}} {hist.total}")
    lines.append(f"{name}_count{{{labels}}} {hist.n}")
    return lines

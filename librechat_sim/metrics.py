"""Prometheus metrics of one replica, in the text exposition format (no client library needed)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field

BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds of the request-duration histogram, in seconds."""


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
        self.streams_active = 0
        self.takeovers = 0

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record one finished request."""
        self.requests[(route, method, status)] += 1
        hist = self.durations[(route, method)]
        hist.counts[bisect.bisect_left(BUCKETS_S, seconds)] += 1
        hist.total += seconds
        hist.n += 1

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
            "# HELP librechat_sim_http_request_duration_seconds Time to the response headers.",
            "# TYPE librechat_sim_http_request_duration_seconds histogram",
        ]
        for (route, method), hist in sorted(self.durations.items()):
            labels = f'{rep},route="{route}",method="{method}"'
            cumulative = 0
            for bound, count in zip((*BUCKETS_S, float("inf")), hist.counts, strict=True):
                cumulative += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                name = "librechat_sim_http_request_duration_seconds_bucket"
                lines.append(f'{name}{{{labels},le="{le}"}} {cumulative}')
            lines.append(
                f"librechat_sim_http_request_duration_seconds_sum{{{labels}}} {hist.total}"
            )
            lines.append(f"librechat_sim_http_request_duration_seconds_count{{{labels}}} {hist.n}")
        lines += [
            "# HELP librechat_sim_sse_streams_active SSE streams open on this replica.",
            "# TYPE librechat_sim_sse_streams_active gauge",
            f"librechat_sim_sse_streams_active{{{rep}}} {self.streams_active}",
            "# HELP librechat_sim_job_takeovers_total Generation jobs taken over from dead owners.",
            "# TYPE librechat_sim_job_takeovers_total counter",
            f"librechat_sim_job_takeovers_total{{{rep}}} {self.takeovers}",
        ]
        return "\n".join(lines) + "\n"

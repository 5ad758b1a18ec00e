"""The haproxy configuration in front of the replicas: round robin, health checks, long SSE, and
the front door's metrics per route class.

Each route class (:data:`ROUTE_CLASSES`) has a backend per region, ``<class>_<region>``, whose
servers track the region's health-checked servers (no extra checks): haproxy's Prometheus
exporter, served on the front port at :data:`METRICS_PATH`, then counts each class's requests and
5xx answers — including the 503s haproxy itself returns while no replica can take a request,
which no replica ever sees. Every such series exists from the start, at zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

METRICS_PATH = "/haproxy/metrics"
"""Where the front port serves haproxy's own Prometheus metrics."""

ROUTE_CLASSES = (
    ("auth_refresh", "path /api/auth/refresh"),
    ("auth_login", "path /api/auth/login"),
    ("stream", "path_beg /api/agents/chat/stream/"),
    ("chat", "path_beg /api/agents/chat/"),
    ("convos", "path_beg /api/convos"),
    ("search", "path /api/messages"),
    ("messages", "path_beg /api/messages/"),
    ("files", "path_beg /api/files"),
)
"""Route classes in match order (name, haproxy ACL): the first that matches a request's path
takes it; anything else (``/health``, ``/metrics``) goes to the region's plain backend."""


def render(
    front_port: int,
    replica_ports: Sequence[int],
    pid_file: Path,
    regions: Sequence[str] = (),
) -> str:
    """haproxy.cfg text: loopback only, ``/health`` checks every 500 ms, redispatch on failure.

    ``regions`` names each replica's region; with two regions the front acts as a DNS failover
    record: region ``a`` while any of its replicas is healthy, else region ``b``.
    """
    region_of = list(regions) or ["a"] * len(replica_ports)
    names = sorted(set(region_of))
    backends = []
    for region in names:
        mine = [(i, port) for i, port in enumerate(replica_ports) if region_of[i] == region]
        servers = "\n".join(
            f"    server r{i + 1} 127.0.0.1:{port} check inter 500ms fall 1 rise 2"
            for i, port in mine
        )
        main = _backend(region, names)
        backends.append(
            f"backend {main}\n    balance roundrobin\n"
            f"    option httpchk GET /health\n    http-check expect status 200\n{servers}\n"
        )
        for route_class, _acl in ROUTE_CLASSES:
            tracked = "\n".join(
                f"    server r{i + 1} 127.0.0.1:{port} track {main}/r{i + 1}" for i, port in mine
            )
            backends.append(f"backend {route_class}_{region}\n    balance roundrobin\n{tracked}\n")
    acls = "\n".join(f"    acl {name} {acl}" for name, acl in ROUTE_CLASSES)
    if len(names) == 2:
        primary, secondary = (_backend(r, names) for r in names)
        up = f"{{ nbsrv({primary}) gt 0 }}"
        choose = [
            f"    use_backend {name}_{names[0]} if {name} {up}\n"
            f"    use_backend {name}_{names[1]} if {name}"
            for name, _acl in ROUTE_CLASSES
        ]
        choose.append(
            f"    use_backend {secondary} if {{ nbsrv({primary}) eq 0 }}\n"
            f"    default_backend {primary}"
        )
    else:
        choose = [f"    use_backend {name}_{names[0]} if {name}" for name, _acl in ROUTE_CLASSES]
        choose.append("    default_backend replicas")
    routing = (
        f"    http-request use-service prometheus-exporter if {{ path {METRICS_PATH} }}\n"
        f"{acls}\n" + "\n".join(choose)
    )
    blocks = "\n".join(backends)
    return f"""global
    pidfile {pid_file}
    maxconn 8000
    log stderr format short local0 info  # a line per request (httplog)

defaults
    mode http
    log global
    option httplog
    option forwardfor
    option redispatch
    option http-no-delay  # forward SSE events at once (no MSG_MORE coalescing)
    retries 3
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout tunnel 1h
    timeout http-keep-alive 30s

frontend librechat
    bind 127.0.0.1:{front_port}
{routing}

{blocks}"""


def _backend(region: str, names: Sequence[str]) -> str:
    return "replicas" if len(names) == 1 else f"region_{region}"

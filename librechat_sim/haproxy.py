"""The haproxy configuration in front of the replicas: round robin, health checks, long SSE."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


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
        servers = "\n".join(
            f"    server r{i + 1} 127.0.0.1:{port} check inter 500ms fall 1 rise 2"
            for i, port in enumerate(replica_ports)
            if region_of[i] == region
        )
        backends.append(
            f"backend {_backend(region, names)}\n    balance roundrobin\n"
            f"    option httpchk GET /health\n    http-check expect status 200\n{servers}\n"
        )
    routing = "    default_backend replicas"
    if len(names) == 2:
        primary, secondary = (_backend(r, names) for r in names)
        routing = (
            f"    use_backend {secondary} if {{ nbsrv({primary}) eq 0 }}\n"
            f"    default_backend {primary}"
        )
    blocks = "\n".join(backends)
    return f"""global
    pidfile {pid_file}
    maxconn 8000
    log stderr format short local0 warning

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

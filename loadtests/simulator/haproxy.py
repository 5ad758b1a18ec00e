"""The haproxy configuration in front of the replicas: round robin, health checks, long SSE."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def render(front_port: int, replica_ports: Sequence[int], pid_file: Path) -> str:
    """haproxy.cfg text: loopback only, ``/health`` checks every 500 ms, redispatch on failure."""
    servers = "\n".join(
        f"    server r{i + 1} 127.0.0.1:{port} check inter 500ms fall 1 rise 2"
        for i, port in enumerate(replica_ports)
    )
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
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
{servers}
"""

"""The simulator's fault proxy: Toxiproxy between the replicas and their Redis and mock LLM.

With ``SimConfig.toxiproxy`` set (the path of ``toxiproxy-server``), the cluster starts it after
Redis and the mock LLM with one proxy per upstream (:data:`PROXIES`) in its ``-config`` file (so a
restart reopens them on the same ports) and hands the replicas a configuration whose
``redis_port`` and ``llm_port`` are the proxies' ports. Toxics added through
Toxiproxy's HTTP API (latency, bandwidth, resets, a disabled proxy) then reach every replica; the
seeding and the cluster's own health checks still talk to the upstreams directly.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

from .config import SimConfig
from .errors import PortConflictError, ProgramMissingError, SimError
from .processes import LOOPBACK, Child, free_port, is_free, wait_ready

LLM_PROXY = "llm"
"""The proxy in front of the mock LLM (the OpenAI-compatible upstream)."""

REDIS_PROXY = "redis"
"""The proxy in front of the simulator's redis-server."""

PROXIES = (LLM_PROXY, REDIS_PROXY)
"""Every proxy the simulator creates, by name."""


def prepare(config: SimConfig) -> SimConfig:
    """Check ``config.toxiproxy`` runs and resolve Toxiproxy's API port (0 picks a free one)."""
    if not os.access(config.toxiproxy, os.X_OK) or not Path(config.toxiproxy).is_file():
        raise ProgramMissingError(
            f"toxiproxy-server is not at {config.toxiproxy!r}",
            hint="build it from the Go module proxy (`localplatform.toxiproxy.ensure(cache_dir)` "
            "returns its path) and set SimConfig.toxiproxy to that path",
        )
    if not 0 <= config.toxiproxy_port <= 65535:
        raise PortConflictError(
            f"{config.toxiproxy_port} (for Toxiproxy's API) is not a TCP port",
            hint="choose a port from 1 to 65535 (0 picks a free one)",
        )
    if config.toxiproxy_port == 0:
        return replace(config, toxiproxy_port=free_port())
    if not is_free(config.toxiproxy_port):
        raise PortConflictError(
            f"127.0.0.1:{config.toxiproxy_port} (for Toxiproxy's API) is taken",
            hint="stop what holds it (`ss -ltnp` shows it) or choose another toxiproxy_port",
        )
    return config


def plan(config: SimConfig) -> list[dict[str, str]]:
    """The proxies ``config.toxiproxy_upstreams`` names, each on a free loopback port, in the
    form of Toxiproxy's ``-config`` file (its ``/populate`` body)."""
    upstreams = {LLM_PROXY: config.llm_port, REDIS_PROXY: config.redis_port}
    unknown = set(config.toxiproxy_upstreams) - set(upstreams)
    if unknown:
        raise SimError(
            f"no upstream called {', '.join(sorted(unknown))} to put behind Toxiproxy",
            hint="choose from " + ", ".join(PROXIES),
        )
    return [
        {"name": name, "listen": f"{LOOPBACK}:{free_port()}", "upstream": f"{LOOPBACK}:{port}"}
        for name, port in upstreams.items()
        if name in config.toxiproxy_upstreams
    ]


def argv(config: SimConfig, proxies_file: Path) -> list[str]:
    """The command line of ``toxiproxy-server`` on loopback at ``config.toxiproxy_port``, creating
    the proxies of ``proxies_file`` (see :func:`plan`) at start, so a restart (a chaos rollback)
    brings them back on the same ports; logging warnings only (at its default level it logs
    every connection, too much under load)."""
    env = shutil.which("env") or "/usr/bin/env"  # execs the server: the pid stays the server's
    server = [config.toxiproxy, "-host", LOOPBACK, "-port", str(config.toxiproxy_port)]
    return [env, "LOG_LEVEL=warn", *server, "-config", str(proxies_file)]


def wire(config: SimConfig, server: Child, proxies: list[dict[str, str]]) -> SimConfig:
    """Wait for ``server``, check it created ``proxies`` and return the replicas' configuration
    (their ports replaced by the proxies')."""
    wait_ready(server, config.toxiproxy_port, "/version")
    running = _proxies(config.toxiproxy_port)
    missing = [
        p["name"] for p in proxies if running.get(p["name"], {}).get("listen") != p["listen"]
    ]
    if missing:
        raise SimError(
            f"Toxiproxy on 127.0.0.1:{config.toxiproxy_port} did not open the proxies "
            f"{', '.join(missing)}",
            hint=f"read the toxiproxy log ({server.log}); a port it was given may have been taken",
        )
    ports = {p["name"]: int(p["listen"].rsplit(":", 1)[1]) for p in proxies}
    return replace(
        config,
        llm_port=ports.get(LLM_PROXY, config.llm_port),
        redis_port=ports.get(REDIS_PROXY, config.redis_port),
    )


def _proxies(api_port: int) -> dict[str, dict[str, object]]:
    """Toxiproxy's proxies by name (``GET /proxies``)."""
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{api_port}/proxies", timeout=10) as answer:
            found: dict[str, dict[str, object]] = json.loads(answer.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SimError(
            f"Toxiproxy on 127.0.0.1:{api_port} did not list its proxies: {exc}",
            hint="read the toxiproxy log under the simulator's logs directory",
        ) from None
    return found

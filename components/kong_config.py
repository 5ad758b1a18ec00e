"""Kong's declarative configuration (DB-less mode): the routes from the one way in to LibreChat's
pools, rate limiting on Redis and request-size limits.

What belongs here: the pure function that writes ``kong.yml`` (:func:`declarative_config`), the
route table it is made of (:data:`ROUTES`) and the ConfigMap that carries it. The Kong release
reads it (``dblessConfig.configMap``); its ingress controller is off, so nothing else writes
Kong's configuration.

Each route class goes to the LibreChat pool that serves it (Kong picks the longest matching
prefix): the chat start and its SSE stream to ``streaming``, agents and assistants to
``assistant``, conversations and messages to ``conversation``, files to ``file``, everything
else (login, config, the web client) to ``api``. Requests reach Kong only through CloudFront
(the load balancer's security groups), so the client address is the last one CloudFront wrote in
``X-Forwarded-For``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from k8s_operator.inventory import BY_NAME, LIBRECHAT_PORT

from .k8s_objects import APP_NAMESPACE

CONFIG_MAP_NAME = "kong-declarative"
"""The ConfigMap in Kong's namespace holding ``kong.yml``."""

CONFIG_FILE = "kong.yml"

FORMAT_VERSION = "3.0"
"""Kong 3.x's declarative format."""

REDIS_PASSWORD_REFERENCE = "{vault://env/kong-redis-password}"
"""The rate limiter's Redis password: Kong's environment vault reads ``KONG_REDIS_PASSWORD``,
which the Kong release takes from a Secret (never written in the configuration)."""


@dataclass(frozen=True)
class Route:
    """One route class: path prefixes to one LibreChat pool."""

    service: str
    """The LibreChat pool (``api`` or an inventory route pool)."""
    paths: tuple[str, ...]
    max_body_mb: int
    """Largest request body Kong passes on (LibreChat's own limits sit behind it)."""
    read_timeout_s: int = 60
    """How long Kong waits between two reads from the pool (a chat stream's gaps)."""


ROUTES: tuple[Route, ...] = (
    Route("streaming", ("/api/agents/chat",), 10, read_timeout_s=600),
    Route("assistant", ("/api/agents", "/api/assistants"), 10),
    Route("conversation", ("/api/convos", "/api/messages"), 10),
    Route("file", ("/api/files",), 512),
    Route("api", ("/",), 10),
)
"""LibreChat's route classes; file uploads may be as large as LibreChat's default
``fileConfig.serverFileSizeLimit`` (512 MB)."""

RATE_LIMIT_PER_MINUTE = 600
"""Requests per client address per minute, counted across Kong's replicas in Redis."""


def service_host(platform: str, service: str) -> str:
    """The cluster DNS name of a LibreChat pool's Service (the operator names it
    ``<platform>-<service>``)."""
    return f"{platform}-{service}.{APP_NAMESPACE}.svc.cluster.local"


def declarative_config(redis_host: str, *, platform: str) -> dict[str, Any]:
    """``kong.yml`` for the ``LibreChat`` resource named ``platform``; ``redis_host`` is the
    rate limiter's Redis (TLS, port 6379)."""
    services = []
    for route in ROUTES:
        port = LIBRECHAT_PORT if route.service == "api" else BY_NAME[route.service].port
        name = f"{platform}-{route.service}"
        services.append(
            {
                "name": name,
                "url": f"http://{service_host(platform, route.service)}:{port}",
                "read_timeout": route.read_timeout_s * 1000,
                "routes": [
                    {
                        "name": name,
                        "paths": list(route.paths),
                        "strip_path": False,
                        "preserve_host": True,
                        "protocols": ["http", "https"],
                    }
                ],
                "plugins": [
                    {
                        "name": "request-size-limiting",
                        "config": {
                            "allowed_payload_size": route.max_body_mb,
                            "size_unit": "megabytes",
                        },
                    }
                ],
            }
        )
    return {
        "_format_version": FORMAT_VERSION,
        "services": services,
        "plugins": [
            {
                "name": "rate-limiting",
                "config": {
                    "minute": RATE_LIMIT_PER_MINUTE,
                    "limit_by": "ip",
                    "policy": "redis",
                    "fault_tolerant": True,
                    "redis": {
                        "host": redis_host,
                        "port": 6379,
                        "ssl": True,
                        "ssl_verify": True,
                        "server_name": redis_host,
                        "password": REDIS_PASSWORD_REFERENCE,
                        "timeout": 2000,
                    },
                },
            }
        ],
    }


def config_map(redis_host: str, *, platform: str, namespace: str) -> dict[str, Any]:
    """The ConfigMap holding :func:`declarative_config`."""
    text = yaml.safe_dump(declarative_config(redis_host, platform=platform), sort_keys=False)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CONFIG_MAP_NAME, "namespace": namespace},
        "data": {CONFIG_FILE: text},
    }

"""What every request handler of a replica reaches through ``request.app[REPLICA]``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .auth import verify
from .config import SimConfig
from .jobs import Jobs
from .metrics import Metrics
from .store import Store
from .useragent import ILLEGAL_REQUEST, is_browser


@dataclass(frozen=True)
class Replica:
    """One API replica's collaborators."""

    name: str
    """The replica's name (sent as ``X-Sim-Replica`` on every response)."""

    config: SimConfig
    """The simulator's settings."""

    store: Store
    """Shared state in Redis."""

    jobs: Jobs
    """Generation jobs."""

    metrics: Metrics
    """This replica's Prometheus metrics."""


REPLICA: web.AppKey[Replica] = web.AppKey("replica", Replica)


def unauthorized() -> web.Response:
    """passport-jwt's answer to a missing, forged or expired token."""
    return web.Response(status=401, text="Unauthorized")


async def current_user(request: web.Request) -> dict[str, Any] | None:
    """The access token's claims (``Authorization: Bearer``), or None when the token is missing,
    forged or expired, or its user no longer exists. As LibreChat's JWT strategy
    (danny-avila/LibreChat ``api/strategies/jwtStrategy.js``): verify the token, then look the
    user up by id - one store round trip on every authenticated request."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    replica = request.app[REPLICA]
    claims = verify(header[7:], replica.config.jwt_secret)
    if claims is None or await replica.store.user_by_id(str(claims.get("id"))) is None:
        return None
    return claims


def client_ip(request: web.Request) -> str:
    """The client's address as haproxy saw it: the last ``X-Forwarded-For`` entry of the last such
    header (haproxy adds its own; earlier ones come from the client and could be forged)."""
    forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
    return forwarded.split(",")[-1].strip() or (request.remote or "unknown")


def refuse_non_browser(request: web.Request) -> web.Response | None:
    """LibreChat's ``uaParser`` (on the agents and files routes): refuse non-browser agents."""
    if is_browser(request.headers.get("User-Agent")):
        return None
    return web.json_response(ILLEGAL_REQUEST, status=403)

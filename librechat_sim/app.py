"""One API replica: the aiohttp application and its entry point.

Run as ``python -m librechat_sim.app --config STATE/sim.json --name r1 --port P``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from aiohttp import web
from redis.asyncio import Redis

from . import routes_auth, routes_chat, routes_data
from .config import SimConfig
from .jobs import Jobs
from .metrics import Metrics
from .replica import REPLICA, Replica
from .store import Store
from .upstream import upstream_session

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    replica = request.app[REPLICA]
    route = request.match_info.route.resource
    name = route.canonical if route is not None else "unmatched"
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    except Exception:
        # aiohttp answers 500 to what a handler lets escape (Redis gone, for one): count it.
        replica.metrics.observe(name, request.method, 500, time.perf_counter() - started)
        raise
    replica.metrics.observe(name, request.method, response.status, time.perf_counter() - started)
    if isinstance(response, web.HTTPException):
        raise response
    return response


async def _name_replica(request: web.Request, response: web.StreamResponse) -> None:
    """Every response, streamed or not, says which replica served it (``X-Sim-Replica``)."""
    response.headers["X-Sim-Replica"] = request.app[REPLICA].name


async def health(_request: web.Request) -> web.Response:
    """LibreChat's ``/health``: ``OK``, without checking its dependencies."""
    return web.Response(text="OK")


async def metrics(request: web.Request) -> web.Response:
    """Prometheus exposition of this replica's counters."""
    body = request.app[REPLICA].metrics.render()
    return web.Response(text=body, content_type="text/plain", charset="utf-8")


def make_app(config: SimConfig, name: str) -> web.Application:
    """The replica's application; it connects to Redis on startup."""
    app = web.Application(middlewares=[_observe], client_max_size=config.max_upload_bytes + 65536)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        redis = Redis(host="127.0.0.1", port=config.redis_port, decode_responses=True)
        store = Store(redis, config.key_prefix)
        upstream = upstream_session()
        jobs = Jobs(store, config, name, upstream)
        metrics = Metrics(name)
        for resource in app.router.resources():
            for route in resource:
                if route.method != "HEAD":
                    metrics.declare(resource.canonical, route.method)
        app[REPLICA] = Replica(name, config, store, jobs, metrics)
        yield
        for task in list(jobs.tasks):
            task.cancel()
        for task in list(jobs.tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await upstream.close()
        await redis.aclose()

    app.cleanup_ctx.append(lifecycle)
    app.on_response_prepare.append(_name_replica)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    routes_auth.add_routes(app)
    routes_data.add_routes(app)
    routes_chat.add_routes(app)
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve one replica on 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    config = SimConfig.from_json(args.config.read_text())
    web.run_app(make_app(config, args.name), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()

"""The generator benchmark's locustfile: ``GET /health`` as fast as FastHttpUser loops can.

With ``--bench-results FILE`` it writes, at exit, the requests and the CPU seconds this process
spent between test start and stop (Locust's import and start-up are not counted).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment

from librechat_sim.useragent import BROWSER_USER_AGENT
from loadtests.locustfiles.collect import COLLECTOR


class HealthUser(FastHttpUser):
    """No think time: measures the generator, not a user."""

    wait_time = constant(0)
    default_headers = {"User-Agent": BROWSER_USER_AGENT}  # noqa: RUF012

    @task
    def health(self) -> None:
        """One ``GET /health``."""
        self.client.get("/health")


def _options(parser: Any) -> None:
    parser.add_argument("--bench-results", default="")


def _write(environment: Environment, **_kwargs: Any) -> None:
    options = environment.parsed_options
    if options is None or not options.bench_results:
        return
    results = COLLECTOR.collect(environment)
    requests = sum(e.requests for e in results.entries.values())
    figures = {"requests": requests, "cpu_s": results.cpu_s, "wall_s": results.wall_s}
    Path(options.bench_results).write_text(json.dumps(figures))


_hooks: Any = events  # locust types its event hooks loosely
_hooks.init_command_line_parser.add_listener(_options)
_hooks.quitting.add_listener(_write)

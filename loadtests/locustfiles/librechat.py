"""The locustfile: LibreChat journeys, the selected load shape, and the exit-code gate.

Run by ``librechat-ops loadtest`` as ``locust -f loadtests/locustfiles/librechat.py --headless``
with the options added below; it works unchanged against the simulator or a real LibreChat URL.
The journeys are in :mod:`.journeys`; at exit the ``quitting`` listener writes ``results.json`` and
sets Locust's exit code from the SLO verdict (0 only when every SLO holds).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from locust import LoadTestShape, events
from locust.env import Environment

from librechat_sim.ledger import LEDGER
from loadtests.locustfiles.collect import COLLECTOR
from loadtests.locustfiles.journeys import CREDENTIALS, LibreChatUser
from loadtests.shapes import SHAPES, ShapeSpec
from loadtests.slo import judge
from slos import definition as slo_file

__all__ = ["LibreChatUser", "SelectedShape"]


def _options(parser: Any) -> None:
    group = parser.add_argument_group("librechat-ops")
    group.add_argument("--lco-shape", default="smoke", choices=sorted(SHAPES))
    group.add_argument("--lco-users", type=int, default=2)
    group.add_argument("--lco-duration", type=float, default=30.0)
    group.add_argument("--lco-results", default="")
    group.add_argument("--lco-profile", default="")
    group.add_argument("--lco-profiles", default="")
    group.add_argument("--lco-credentials", default="", help="CSV of email,password")
    group.add_argument("--lco-seed-users", type=int, default=50)
    group.add_argument("--lco-seed-password", default="loadtest-password")
    group.add_argument("--lco-chat-timeout", type=float, default=60.0)
    group.add_argument("--lco-chat-endpoint", default="openAI", help="endpoint behind the agent")
    group.add_argument("--lco-chat-model", default="gpt-4o-mini")
    group.add_argument("--lco-ledger", default="", help="append every chat to this JSON-lines file")
    group.add_argument("--lco-warmup", type=float, default=0.0, help="seconds the gate leaves out")


def _on_init(environment: Environment, **_kwargs: Any) -> None:
    options = environment.parsed_options
    if options is None:
        return
    if options.lco_ledger:
        LEDGER.open(Path(options.lco_ledger))
    if options.lco_credentials:
        with open(options.lco_credentials, newline="") as handle:
            rows = [r for r in csv.reader(handle) if r and not r[0].startswith("#")]
        CREDENTIALS.extend((r[0].strip(), r[1].strip()) for r in rows if len(r) >= 2)
    else:
        CREDENTIALS.extend(
            (f"loadtest-{i}@example.com", options.lco_seed_password)
            for i in range(options.lco_seed_users)
        )


def _gate(environment: Environment, **_kwargs: Any) -> None:
    options = environment.parsed_options
    if options is None or not options.lco_results:
        return
    results = COLLECTOR.write(environment, Path(options.lco_results))
    if results is None or not options.lco_profile:
        return
    profiles = Path(options.lco_profiles) if options.lco_profiles else slo_file.DEFAULT_FILE
    profile = slo_file.environment(options.lco_profile, profiles)
    verdict = judge(results, options.lco_profile, profile, warmup_s=options.lco_warmup)
    environment.process_exit_code = 0 if verdict.passed else 1


class SelectedShape(LoadTestShape):
    """The shape named by ``--lco-shape`` with ``--lco-users`` and ``--lco-duration``."""

    def tick(self) -> tuple[int, float] | None:
        """Users and spawn rate now, or None when the run is over."""
        shape: Any = self
        options = shape.runner.environment.parsed_options
        spec = ShapeSpec(users=options.lco_users, duration_s=options.lco_duration)
        step = SHAPES[options.lco_shape](spec, shape.get_run_time())
        if step is not None:
            COLLECTOR.note_users(shape.get_current_user_count())
        return step


_hooks: Any = events  # locust types its event hooks loosely
_hooks.init_command_line_parser.add_listener(_options)
_hooks.init.add_listener(_on_init)
_hooks.quitting.add_listener(_gate)

"""The laptop's indicators read series the simulator really exports: every journey's selectors
match its routes, and every latency threshold is a bucket bound of the histogram."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from librechat_sim.app import make_app
from librechat_sim.config import SimConfig
from librechat_sim.metrics import BUCKETS_S
from slos.definition import JOURNEYS, environment
from slos.sli import SIMULATOR_BUCKETS_S, sli

_MATCHER = re.compile(r'route(=~|=)"((?:[^"\\]|\\.)*)"')


def _routes() -> set[str]:
    app = make_app(SimConfig(state_dir=Path("unused")), "r1")
    return {r.canonical for r in app.router.resources()}


def _matches(selector: str, route: str) -> bool:
    found = _MATCHER.search(selector)
    assert found, selector
    op, value = found.groups()
    value = value.encode().decode("unicode_escape")  # PromQL string escapes, as Prometheus reads
    return route == value if op == "=" else re.fullmatch(value, route) is not None


@pytest.mark.parametrize("journey", JOURNEYS)
def test_each_journey_reads_real_simulator_routes(journey: str) -> None:
    routes = _routes()
    series = sli("simulator", journey)
    for selector in (series.requests, series.errors, series.buckets):
        assert [r for r in routes if _matches(selector, r)], (journey, selector)


def test_message_delivery_reads_its_three_routes_and_nothing_else() -> None:
    selector = sli("simulator", "message_delivery").requests
    assert sorted(r for r in _routes() if _matches(selector, r)) == [
        "/api/agents/chat/{endpoint}",
        "/api/convos",
        "/api/messages/{conversationId}",
    ]


def test_the_buckets_are_the_simulators_and_hold_every_laptop_threshold() -> None:
    assert SIMULATOR_BUCKETS_S == BUCKETS_S
    laptop = environment("laptop")
    for journey, target in laptop.journeys.items():
        for objective in target.latency:
            assert sli("simulator", journey).has_bound(objective.threshold_ms), journey

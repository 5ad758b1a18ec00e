"""The laptop's indicators read series the simulator really exports: every journey's latency
selectors match its replicas' routes, its availability selectors the route classes of its front
door (haproxy), and every latency threshold is a bucket bound of the histogram."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from librechat_sim.app import make_app
from librechat_sim.config import SimConfig
from librechat_sim.haproxy import ROUTE_CLASSES, render
from librechat_sim.metrics import BUCKETS_S
from slos.definition import JOURNEYS, environment
from slos.sli import SIMULATOR_BUCKETS_S, sli

_MATCHER = re.compile(r'route(=~|=)"((?:[^"\\]|\\.)*)"')
_PROXY = re.compile(r'proxy=~"((?:[^"\\]|\\.)*)"')


def _routes() -> set[str]:
    app = make_app(SimConfig(state_dir=Path("unused")), "r1")
    return {r.canonical for r in app.router.resources()}


def _matches(selector: str, route: str) -> bool:
    found = _MATCHER.search(selector)
    assert found, selector
    op, value = found.groups()
    value = value.encode().decode("unicode_escape")  # PromQL string escapes, as Prometheus reads
    return route == value if op == "=" else re.fullmatch(value, route) is not None


def _backends(regions: list[str]) -> set[str]:
    ports = list(range(1, len(regions) + 1))
    text = render(8080, ports, Path("haproxy.pid"), regions)
    return set(re.findall(r"^backend (\S+)$", text, flags=re.MULTILINE))


@pytest.mark.parametrize("journey", JOURNEYS)
def test_each_journey_reads_real_simulator_routes_and_front_door_backends(journey: str) -> None:
    series = sli("simulator", journey)
    assert [r for r in _routes() if _matches(series.buckets, r)], (journey, series.buckets)
    for regions in (["a", "a"], ["a", "a", "b", "b"]):
        backends = _backends(regions)
        for selector in (series.requests, series.errors):
            found = _PROXY.search(selector)
            assert found, selector
            mine = sorted(b for b in backends if re.fullmatch(found.group(1), b))
            assert mine, (journey, selector, sorted(backends))
            assert all(b.rsplit("_", 1)[0] in dict(ROUTE_CLASSES) for b in mine), mine


def test_message_delivery_reads_its_three_routes_and_nothing_else() -> None:
    selector = sli("simulator", "message_delivery").buckets
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

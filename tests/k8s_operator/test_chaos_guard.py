"""The ChaosSchedule guard reads the generated burn-rate rule from a real Prometheus and fails
closed: no data, NaN, +Inf, a stale reading, an unreachable Prometheus, an HTTP error and a
PromQL error each suspend the runs with their own verdict; only a fresh burn rate within the
limit lets them go.

The Prometheus evaluates the rules ``slos.rules.generate`` writes for ``laptop`` (the shipped
definition), every second, on a target serving the simulator's metrics at rates the test sets:

- ``file_operations``: 100 requests/s, 1 in 10,000 failing: burn rate 0.1;
- ``search``: half of 50 requests/s failing: burn rate 500;
- ``login``: counters that no longer grow: 0/0, NaN;
- ``authentication``: never served, so its rules have no series.

The series are those ``slos.sli`` names, every request within every latency threshold.

Beside them, a hand-written rule records +Inf as ``inf-test``'s burn rate (the generated rules
cannot give +Inf: bad requests are a subset of all), and the TSDB is backfilled with
``stale-test``'s burn rate from 4 minutes to 1 minute ago: the series of a rule that stopped being
evaluated, which Prometheus keeps answering with for 5 minutes (its lookback). The HTTP error is
a path of that Prometheus that is not its API (404); the PromQL error comes from a second
Prometheus that may load one sample per query (``--query.max-samples=1``, HTTP 422); unreachable
is a closed port, or a socket that accepts and never answers (the guard's timeout).
"""

from __future__ import annotations

import math
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from k8s_operator.guard import Guard, guard_state
from k8s_operator.settings import OperatorSettings
from slos import definition, rules
from slos.sli import sli
from tests.prometheus_server import (
    MetricsTarget,
    PrometheusServer,
    free_port,
    needs_prometheus,
    openmetrics,
    running_prometheus,
    series_of,
)
from tests.waiting import wait_until

T = TypeVar("T", bound=Callable[..., Any])

BURN_1H = f"{rules.BURN}1h"
STALE_VALUE = 0.1
"""``stale-test``'s burn rate: healthy-looking, so only its age can stop the runs."""


TRAFFIC = {"file_operations": (100.0, 0.01), "search": (50.0, 25.0)}
"""Requests and failures per second of the journeys with traffic."""
IDLE = {"login": 42.0}
"""Journeys whose counters no longer grow, at this many requests."""


def _series(journey: str, requests: float, errors: float) -> list[str]:
    """Exposition lines of ``journey``'s indicators (one series each ``slos.sli`` selector
    matches), every request faster than every threshold."""
    series = sli("simulator", journey)
    lines = [f"{series_of(series.requests)} {requests!r}", f"{series_of(series.errors)} {errors!r}"]
    objectives = definition.environment("laptop").journeys[journey].latency
    for le in [*(series.le(o.threshold_ms) for o in objectives), "+Inf"]:
        lines.append(f"{series_of(series.buckets, le=le)} {requests!r}")
    return lines


def _exposition(seconds: float) -> str:
    """The simulator's metrics ``seconds`` after the target started."""
    lines = []
    for journey, (per_s, errors_per_s) in TRAFFIC.items():
        lines += _series(journey, per_s * seconds, errors_per_s * seconds)
    for journey, total in IDLE.items():
        lines += _series(journey, total, 0.0)
    return "\n".join(lines) + "\n"


def _rule_file() -> dict[str, Any]:
    generated = rules.generate("laptop", definition.environment("laptop"), interval="1s")
    infinite = {
        "name": "inf-test",
        "interval": "1s",
        "rules": [
            {
                "record": BURN_1H,
                "expr": "vector(1) / vector(0)",
                "labels": {
                    "slo_env": "inf-test",
                    "slo_journey": "search",
                    "slo_objective": "availability",
                },
            }
        ],
    }
    return {"groups": [*generated["groups"], infinite]}


def _stale_backfill(now: float) -> str:
    labels = {"slo_env": "stale-test", "slo_journey": "search", "slo_objective": "availability"}
    return openmetrics([(BURN_1H, labels, STALE_VALUE, now - ago) for ago in range(240, 59, -15)])


def _value(prometheus: PrometheusServer, promql: str) -> float | None:
    result = prometheus.query(promql)
    return float(result[0]["value"][1]) if result else None


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    root = tmp_path_factory.mktemp("guard-prometheus")
    with (
        MetricsTarget(_exposition) as target,
        running_prometheus(
            root,
            rules=_rule_file(),
            targets=[target.address],
            backfill=_stale_backfill(time.time()),
        ) as server,
    ):

        def evaluated() -> bool:
            files = _value(server, rules.burn_rate_query("laptop", "1h", "file_operations"))
            search = _value(server, rules.burn_rate_query("laptop", "1h", "search"))
            return files is not None and math.isfinite(files) and search is not None

        wait_until(evaluated, 60, "the generated rules' first burn rates")
        yield server


def _settings(url: str, env: str = "laptop", timeout: float = 5.0) -> OperatorSettings:
    return OperatorSettings(prometheus_url=url, slo_env=env, guard_timeout=timeout)


def _guard(settings: OperatorSettings, **slo_guard: Any) -> Guard:
    return guard_state({"sloGuard": slo_guard}, settings)


def _assert_suspended(guard: Guard, verdict: str, *detail: str) -> None:
    assert (guard.suspend, guard.verdict) == (True, verdict), guard
    for part in detail:
        assert part in guard.detail, guard
    assert guard.event_type == "Warning"


def _e2e(test: T) -> T:
    """A test against the real Prometheus (a few seconds for the module's, once)."""
    marked: T = pytest.mark.e2e(pytest.mark.slow(needs_prometheus(test)))
    return marked


@_e2e
def test_a_low_burn_rate_opens_the_runs(prometheus: PrometheusServer) -> None:
    guard = _guard(_settings(prometheus.url), journey="file_operations")
    assert (guard.suspend, guard.verdict) == (False, "open"), guard
    assert guard.detail == "burn rate 0.10x <= 1.00x over 1h"
    assert (guard.event_type, guard.event_reason) == ("Normal", "GuardOpen")


@_e2e
def test_a_high_burn_rate_suspends_the_runs(prometheus: PrometheusServer) -> None:
    guard = _guard(_settings(prometheus.url), journey="search", maxBurnRate=14.4)
    _assert_suspended(guard, "burning", "error budget burning at 500.00x > 14.40x over 1h")
    assert guard.event_reason == "GuardBurning"


@_e2e
def test_the_worst_journey_decides_without_one_named(prometheus: PrometheusServer) -> None:
    _assert_suspended(_guard(_settings(prometheus.url)), "burning", "500.00x > 1.00x")
    # The same readings with a limit above search's burn: the NaN of idle login does not count.
    guard = _guard(_settings(prometheus.url), maxBurnRate=1000)
    assert (guard.suspend, guard.verdict) == (False, "open"), guard


@_e2e
def test_no_series_suspends_the_runs(prometheus: PrometheusServer) -> None:
    # The rule is loaded (its other journeys have series), but nothing feeds authentication's.
    assert prometheus.query(rules.burn_rate_query("laptop", "1h", "authentication")) == []
    guard = _guard(_settings(prometheus.url), journey="authentication")
    _assert_suspended(guard, "no-data", 'slo_journey="authentication"', "slo rules --env laptop")
    assert guard.event_reason == "GuardNoData"
    # An environment whose rules Prometheus does not have at all.
    _assert_suspended(_guard(_settings(prometheus.url, env="production")), "no-data")


@_e2e
def test_a_nan_burn_rate_suspends_the_runs(prometheus: PrometheusServer) -> None:
    login = _value(prometheus, rules.burn_rate_query("laptop", "1h", "login"))
    assert login is not None
    assert math.isnan(login)  # the real rule on an idle journey: 0/0
    guard = _guard(_settings(prometheus.url), journey="login")
    _assert_suspended(guard, "nan", "not a number", "over 1h")


@_e2e
def test_an_infinite_burn_rate_suspends_the_runs(prometheus: PrometheusServer) -> None:
    guard = _guard(_settings(prometheus.url, env="inf-test"), maxBurnRate=1e308)
    _assert_suspended(guard, "infinite", "the burn rate over 1h is +Inf")


@_e2e
def test_a_stale_burn_rate_suspends_the_runs(prometheus: PrometheusServer) -> None:
    settings = _settings(prometheus.url, env="stale-test")
    # Prometheus still answers with the last sample, a healthy-looking value: the danger.
    assert _value(prometheus, rules.burn_rate_query("stale-test")) == STALE_VALUE
    guard = _guard(settings, maxAgeSeconds=30)
    _assert_suspended(guard, "stale", "last evaluated", "limit 30 s")
    age = float(guard.detail.split("last evaluated ")[1].split(" s ago")[0])
    assert 60 <= age < 300, guard.detail
    # Allowed that old, the same reading opens: the age alone decided.
    assert _guard(settings, maxAgeSeconds=3600).verdict == "open"


def test_an_unreachable_prometheus_suspends_the_runs() -> None:
    port = free_port()  # a loopback port with nothing listening
    guard = _guard(_settings(f"http://127.0.0.1:{port}"))
    _assert_suspended(guard, "unreachable", f"no answer from http://127.0.0.1:{port}")
    assert "LIBRECHAT_PROMETHEUS_URL" in guard.detail


def test_a_prometheus_that_never_answers_suspends_within_the_timeout() -> None:
    with socket.socket() as sock:  # accepts connections (the backlog), never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        started = time.monotonic()
        guard = _guard(_settings(url, timeout=0.5))
        elapsed = time.monotonic() - started
    _assert_suspended(guard, "unreachable", "within 0.5 s", "timed out")
    assert elapsed < 3


@_e2e
def test_an_http_error_suspends_the_runs(prometheus: PrometheusServer) -> None:
    guard = _guard(_settings(f"{prometheus.url}/not-prometheus"))
    _assert_suspended(guard, "http-error", "HTTP 404", "404 page not found")


@_e2e
def test_a_promql_error_suspends_the_runs(tmp_path_factory: pytest.TempPathFactory) -> None:
    # A Prometheus that may load 1 sample per query fails the guard's query over two series
    # ("execution" error, HTTP 422).
    now = time.time()
    series = [
        (BURN_1H, {"slo_env": "laptop", "slo_journey": journey, "slo_objective": "availability"})
        for journey in ("search", "file_operations")
    ]
    with running_prometheus(
        tmp_path_factory.mktemp("limited-prometheus"),
        backfill=openmetrics([(m, labels, 0.1, now - 5) for m, labels in series]),
        args=["--query.max-samples=1"],
    ) as limited:
        guard = _guard(_settings(limited.url))
    _assert_suspended(guard, "query-error", "HTTP 422", "execution", "too many samples")
    assert guard.event_reason == "GuardQueryError"


@pytest.mark.parametrize(
    ("spec", "verdict", "suspend"),
    [
        ({"suspend": True, "sloGuard": {}}, "suspended", True),
        ({}, "unguarded", False),
        ({"sloGuard": {"window": "2h"}}, "rejected", True),
        ({"sloGuard": {"journey": "billing"}}, "rejected", True),
        ({"sloGuard": {"maxAgeSeconds": None}}, "rejected", True),
    ],
)
def test_verdicts_that_do_not_ask_prometheus(
    spec: dict[str, Any], verdict: str, suspend: bool
) -> None:
    settings = _settings(f"http://127.0.0.1:{free_port()}")  # never asked
    guard = guard_state(spec, settings)
    assert (guard.verdict, guard.suspend) == (verdict, suspend), guard

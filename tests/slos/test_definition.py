"""The SLO definition: the shipped one follows DESIGN.md §4; bad names and files get one clear
error; the one evaluator judges availability, P99 and P95."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.common.names import JOURNEY_ENTRIES
from slos.definition import DEFAULT_FILE, JOURNEYS, Environment, JourneySlo, environment, load
from slos.errors import SloError
from slos.evaluate import judge


def test_shipped_slos_carry_the_seed_targets() -> None:
    envs = load().environments
    assert set(envs) == {"laptop", "staging", "production"}
    prod = envs["production"]
    assert prod.availability == 0.99999
    assert envs["staging"].availability == 0.999
    assert prod.time_window == "30d"
    assert prod.window_s == 30 * 86400
    assert prod.indicators == "kong"
    assert envs["laptop"].indicators == "simulator"
    targets = {name: t.threshold(0.99) for name, t in prod.journeys.items()}
    assert targets == {
        "authentication": 25,
        "message_delivery": 50,
        "ai_inference": 1500,
        "login": None,
        "time_to_complete": None,
        "search": 100,
        "file_operations": 200,
    }


def test_unknown_environment_names_the_choices() -> None:
    with pytest.raises(SloError) as caught:
        environment("moon")
    assert caught.value.hint == "choose one of: laptop, production, staging"


def test_an_edited_copy_is_used(tmp_path: Path) -> None:
    copy = tmp_path / "mine.yaml"
    copy.write_text(DEFAULT_FILE.read_text().replace("thresholdMs: 1500", "thresholdMs: 3000"))
    assert environment("laptop", copy).journeys["ai_inference"].threshold(0.99) == 3000


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("environments: [", "not valid YAML"),
        ("environments: {x: {availability: 2, journeys: {}}}", "availability"),
        ("environments: {x: {availability: 1.0, journeys: {}}}", "availability"),
        ("environments: {x: {availability: 0.9, journeys: {teleport: {}}}}", "unknown journeys"),
        (
            "environments: {x: {availability: 0.9, journeys: "
            "{search: {latency: [{percentile: 0.99, thresholdMs: -1}]}}}}",
            "thresholdMs",
        ),
        (
            "environments: {x: {availability: 0.9, journeys: {search: {"
            "latency: [{percentile: 0.99, thresholdMs: 1}, {percentile: 0.99, thresholdMs: 2}]}}}}",
            "same percentile",
        ),
        ("environments: {x: {availability: 0.9, timeWindow: 30days, journeys: {}}}", "duration"),
        ("environments: {x: {availability: 0.9, p99_ms: 3, journeys: {}}}", "p99_ms"),
    ],
)
def test_bad_files_are_explained(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SloError, match=match):
        load(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SloError, match="cannot read"):
        load(tmp_path / "nope.yaml")


def _env(**journeys: JourneySlo) -> Environment:
    return Environment(availability=0.99, min_requests=10, journeys=journeys)


def test_the_evaluator_judges_availability_p99_and_p95() -> None:
    slos = _env(
        search=JourneySlo.model_validate(
            {
                "latency": [
                    {"percentile": 0.99, "thresholdMs": 100},
                    {"percentile": 0.95, "thresholdMs": 20},
                ]
            }
        )
    )
    quantiles = {0.99: 90.0, 0.95: 30.0}
    verdict = judge("search", 100, 2, quantiles.get, slos)
    assert not verdict.passed
    assert verdict.reasons == (
        "2/100 failed (2.000%), above the 1.000% error budget",
        "P95 30 ms above the 20 ms target",
    )
    assert verdict.measured(0.99) == 90.0
    fine = judge("search", 100, 1, {0.99: 90.0, 0.95: 20.0}.get, slos)
    assert fine.passed
    assert fine.reasons == ()


def test_the_evaluator_wants_enough_requests_only_for_latency_objectives() -> None:
    slos = _env(
        search=JourneySlo.model_validate({"latency": [{"percentile": 0.99, "thresholdMs": 1}]}),
        login=JourneySlo(),
    )
    few = judge("search", 3, 0, lambda _q: 0.5, slos, where="in steady state")
    assert few.reasons == ("3 requests in steady state, fewer than the 10 required",)
    assert judge("login", 3, 0, lambda _q: 9000.0, slos).passed
    unjudged = judge("file_operations", 10, 10, lambda _q: None, slos)
    assert (unjudged.judged, unjudged.passed) == (False, True)


def test_the_load_tests_measure_every_journey_the_definition_knows() -> None:
    assert tuple(JOURNEY_ENTRIES) == JOURNEYS

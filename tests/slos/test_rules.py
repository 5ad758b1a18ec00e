"""The generated Prometheus rules: valid for promtool in every environment and at verify's scale,
one recording rule set and three burn-rate alerts per objective, a threshold off the histogram's
buckets refused, the guard's burn-rate query evaluated by promtool."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from slos.definition import BURN_ALERTS, DEFAULT_FILE, Environment, environment, load
from slos.errors import SloError
from slos.files import check_rules, run_rule_tests
from slos.rules import (
    ALERT_PREFIX,
    BURN,
    burn_rate_query,
    dump,
    generate,
    objectives,
    windows,
)
from slos.sli import KONG_BUCKETS_MS

ENVIRONMENTS = sorted(load().environments)
needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool is not installed (Debian: apt-get install prometheus)",
)


@needs_promtool
@pytest.mark.parametrize("scale", [1.0, 1 / 60], ids=["real-time", "verify-1-60"])
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_promtool_accepts_the_rules(tmp_path: Path, env: str, scale: float) -> None:
    slos = environment(env)
    rules = generate(env, slos, scale=scale, interval="15s")
    path = tmp_path / "rules.yml"
    path.write_text(dump(rules))
    result = check_rules(path)
    assert result.ok, result.output
    every = [rule for group in rules["groups"] for rule in group["rules"]]
    assert f"SUCCESS: {len(every)} rules found" in result.output
    assert all(group["interval"] == "15s" for group in rules["groups"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_objective_has_its_ratios_burn_rates_and_three_alerts(env: str) -> None:
    slos = environment(env)
    rules = generate(env, slos)
    every = [rule for group in rules["groups"] for rule in group["rules"]]
    recorded = {
        (rule["record"], rule["labels"]["slo_journey"], rule["labels"]["slo_objective"])
        for rule in every
        if "record" in rule
    }
    alerts = [rule for rule in every if "alert" in rule]
    found = objectives(slos)
    # Two objectives per journey with a latency target, one without: 5 + 7 on the shipped file.
    assert len(found) == len(slos.journeys) + sum(len(j.latency) for j in slos.journeys.values())
    for obj in found:
        for window in [*windows(slos), "30d"]:
            assert (f"{BURN}{window}", obj.journey, obj.objective) in recorded
    assert len(alerts) == len(found) * len(BURN_ALERTS)
    severities = {rule["alert"]: rule["labels"]["severity"] for rule in alerts}
    assert severities == {
        f"{ALERT_PREFIX}Page1h": "page",
        f"{ALERT_PREFIX}Page6h": "page",
        f"{ALERT_PREFIX}Ticket3d": "ticket",
    }
    assert all(rule["labels"]["slo_env"] == env for rule in every)


def test_windows_are_scaled() -> None:
    slos = environment("laptop")
    assert windows(slos) == ["5m", "30m", "1h", "6h", "3d"]
    assert windows(slos, 1 / 60) == ["5s", "30s", "1m", "6m", "72m"]
    page = next(
        rule
        for group in generate("laptop", slos, scale=1 / 60)["groups"]
        for rule in group["rules"]
        if rule.get("alert") == f"{ALERT_PREFIX}Page1h"
    )
    assert "ratio_rate1m{" in page["expr"]
    assert "ratio_rate5s{" in page["expr"]
    assert " and " in page["expr"]


def test_a_threshold_that_is_not_a_bucket_bound_is_refused() -> None:
    raw = yaml.safe_load(DEFAULT_FILE.read_text())["environments"]["laptop"]
    raw["journeys"] = {"search": {"latency": [{"percentile": 0.99, "thresholdMs": 120}]}}
    with pytest.raises(SloError) as caught:
        generate("laptop", Environment.model_validate(raw))
    assert "search: the 120 ms threshold is not a bucket bound" in caught.value.message
    assert "0.1, 0.2" in caught.value.message
    assert caught.value.hint is not None
    assert "bucket bound" in caught.value.hint


def test_the_same_threshold_on_kong_buckets_in_milliseconds() -> None:
    raw = yaml.safe_load(DEFAULT_FILE.read_text())["environments"]["staging"]
    assert 300 in KONG_BUCKETS_MS
    assert 250 not in KONG_BUCKETS_MS
    raw["journeys"] = {"search": {"latency": [{"percentile": 0.95, "thresholdMs": 300}]}}
    rules = generate("staging", Environment.model_validate(raw))
    exprs = " ".join(r["expr"] for g in rules["groups"] for r in g["rules"] if "record" in r)
    assert 'kong_request_latency_ms_bucket{route="librechat-search",le="300"}' in exprs
    assert 'slo_objective="latency_p95"' in exprs
    raw["journeys"] = {"search": {"latency": [{"percentile": 0.95, "thresholdMs": 250}]}}
    with pytest.raises(SloError, match="250 ms threshold is not a bucket bound"):
        generate("staging", Environment.model_validate(raw))


def test_a_scale_that_is_not_positive_is_refused() -> None:
    with pytest.raises(SloError, match="scale must be positive"):
        generate("laptop", environment("laptop"), scale=0)


@pytest.mark.parametrize(
    ("where", "key"),
    [("environment", "availabilty"), ("journey", "latencyTarget"), ("objective", "threshold")],
)
def test_unknown_keys_in_a_definition_are_refused(tmp_path: Path, where: str, key: str) -> None:
    raw = yaml.safe_load(DEFAULT_FILE.read_text())
    laptop = raw["environments"]["laptop"]
    target = {
        "environment": laptop,
        "journey": laptop["journeys"]["search"],
        "objective": laptop["journeys"]["search"]["latency"][0],
    }[where]
    target[key] = 1
    path = tmp_path / "slos.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(SloError) as caught:
        load(path)
    assert key in caught.value.message
    assert "Extra inputs are not permitted" in caught.value.message
    assert caught.value.hint == f"compare with {DEFAULT_FILE}"


def test_burn_rate_query_text() -> None:
    assert burn_rate_query("staging") == 'max(slo:burn_rate:ratio_rate1h{slo_env="staging"})'
    assert burn_rate_query("laptop", "5m", "search") == (
        'max(slo:burn_rate:ratio_rate5m{slo_env="laptop",slo_journey="search"})'
    )


@needs_promtool
def test_burn_rate_query_picks_the_highest_burn_of_its_env_and_journey(tmp_path: Path) -> None:
    """promtool evaluates the guard's query on recorded burn rates of two environments."""
    series = {
        ("laptop", "search", "availability"): 2,
        ("laptop", "search", "latency_p99"): 7,
        ("laptop", "login", "availability"): 11,
        ("staging", "search", "availability"): 99,
    }
    rules = tmp_path / "empty.rules.yml"
    rules.write_text("groups: []\n")
    cases = {
        burn_rate_query("laptop"): 11,
        burn_rate_query("laptop", journey="search"): 7,
        burn_rate_query("staging", journey="search"): 99,
    }
    tests = {
        "rule_files": [rules.name],
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {
                        "series": f'{BURN}1h{{slo_env="{env}",slo_journey="{journey}",'
                        f'slo_objective="{objective}"}}',
                        "values": f"{value}x5",
                    }
                    for (env, journey, objective), value in series.items()
                ],
                "promql_expr_test": [
                    {
                        "expr": query,
                        "eval_time": "3m",
                        "exp_samples": [{"labels": "{}", "value": v}],
                    }
                    for query, v in cases.items()
                ]
                + [
                    {
                        "expr": burn_rate_query("production"),
                        "eval_time": "3m",
                        "exp_samples": [],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "query.test.yml"
    path.write_text(dump(tests))
    result = run_rule_tests(path)
    assert result.ok, result.output

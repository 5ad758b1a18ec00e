"""``promtool test rules`` on the generated tests: they pass for every environment (in real time
and at verify's 1/60), they test every alert of every objective firing and staying quiet, and
they fail when the rules are wrong (a wrong factor, a dropped window, a wrong budget)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

import slos.rules
from slos.definition import BURN_ALERTS, DEFAULT_FILE, Environment, environment, load
from slos.errors import SloError
from slos.files import run_rule_tests, write
from slos.promtool import SCENARIOS, generate, rule_tests_file_name, rules_file_name
from slos.rules import ALERT_PREFIX, dump, objectives

ENVIRONMENTS = sorted(load().environments)
needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool is not installed (Debian: apt-get install prometheus)",
)


@needs_promtool
@pytest.mark.parametrize(
    ("env", "scale"),
    [*((env, 1.0) for env in ENVIRONMENTS), ("laptop", 1 / 60)],
    ids=[*ENVIRONMENTS, "laptop-1-60"],
)
def test_the_generated_tests_pass(tmp_path: Path, env: str, scale: float) -> None:
    written = write(env, environment(env), tmp_path, scale=scale)
    assert written.rules.name == rules_file_name(env)
    assert written.tests.name == rule_tests_file_name(env)
    result = run_rule_tests(written.tests)
    assert result.ok, result.output
    assert "SUCCESS" in result.output


@needs_promtool
@pytest.mark.parametrize("env", ["laptop", "staging"])
def test_an_edited_definition_gets_passing_tests_too(tmp_path: Path, env: str) -> None:
    """Two latency objectives on one histogram (they share its +Inf bucket: tested apart), two
    at one threshold (the same series, different budgets: tested together), another
    availability."""
    raw = yaml.safe_load(DEFAULT_FILE.read_text())["environments"][env]
    raw["availability"] = 0.995
    raw["journeys"] = {
        "search": {
            "latency": [
                {"percentile": 0.99, "thresholdMs": 100},
                {"percentile": 0.95, "thresholdMs": 50},
                {"percentile": 0.9, "thresholdMs": 50},
            ]
        },
        "login": {},
    }
    slo = Environment.model_validate(raw)
    written = write(env, slo, tmp_path, scale=1 / 60)
    tests = yaml.safe_load(written.tests.read_text())["tests"]
    assert any(t["name"].endswith("(objectives, part 2)") for t in tests)
    result = run_rule_tests(written.tests)
    assert result.ok, result.output


def _labels(env: str, obj: slos.rules.Objective) -> dict[str, str]:
    return {**obj.labels, "slo_env": env}


def _covers(group: dict[str, Any], obj: slos.rules.Objective) -> bool:
    """The group checks ``obj``'s recorded values (so its series feed ``obj``)."""
    return any(
        f'slo_journey="{obj.journey}"' in labels and f'slo_objective="{obj.objective}"' in labels
        for labels in (check["exp_samples"][0]["labels"] for check in group["promql_expr_test"])
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_alert_of_every_objective_fires_once_and_stays_quiet_otherwise(env: str) -> None:
    slo = environment(env)
    tests = generate(env, slo)["tests"]
    for obj in objectives(slo):
        labels = _labels(env, obj)
        for alert in BURN_ALERTS:
            name = ALERT_PREFIX + alert.name
            # The groups whose series feed this objective: they check its recorded values.
            groups = [
                group
                for group in tests
                if group["alert_rule_test"][0]["alertname"] == name and _covers(group, obj)
            ]
            assert len(groups) == len(SCENARIOS), (obj, name)
            firing = [
                group
                for group in groups
                if {**labels, "severity": alert.severity}
                in [a["exp_labels"] for a in group["alert_rule_test"][0]["exp_alerts"]]
            ]
            assert [g["name"] for g in firing] == [f"{name}: {SCENARIOS[0].meaning}"]
    idle = tests[-1]
    assert idle["name"].startswith("no traffic")
    assert {t["alertname"] for t in idle["alert_rule_test"]} == {
        ALERT_PREFIX + a.name for a in BURN_ALERTS
    }
    assert all(t["exp_alerts"] == [] for t in idle["alert_rule_test"])


def test_a_scale_too_small_to_test_is_refused() -> None:
    with pytest.raises(SloError, match="shortest alert window is 3 ms"):
        generate("laptop", environment("laptop"), scale=1e-5)


# --------------------------------------------------------------------------- mutations
ENV = "laptop"
Mutation = Callable[[pytest.MonkeyPatch], dict[str, Any]]
"""Wrong rules for ENV."""


def _edited(kind: str, change: Callable[[str], str]) -> dict[str, Any]:
    rules = slos.rules.generate(ENV, environment(ENV))
    for group in rules["groups"]:
        for rule in group["rules"]:
            if kind in rule:
                rule["expr"] = change(rule["expr"])
    return rules


def _long_window_only(_: pytest.MonkeyPatch) -> dict[str, Any]:
    return _edited("alert", lambda expr: expr.split(" and ")[0])


def _short_window_only(_: pytest.MonkeyPatch) -> dict[str, Any]:
    return _edited("alert", lambda expr: expr.split(" and ")[1])


def _double_budget(_: pytest.MonkeyPatch) -> dict[str, Any]:
    return _edited("record", lambda expr: expr.replace(" / 0.001", " / 0.002"))


def _page6h_at_5x(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    wrong = tuple(replace(a, factor=5.0) if a.name == "Page6h" else a for a in BURN_ALERTS)
    monkeypatch.setattr(slos.rules, "BURN_ALERTS", wrong)
    return slos.rules.generate(ENV, environment(ENV))


@needs_promtool
@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (_long_window_only, "the burst is over: the short window resets it"),
        (_short_window_only, "only the short window burns: the long window keeps it quiet"),
        (_double_budget, "slo:burn_rate:ratio_rate1h"),
        (_page6h_at_5x, "SloErrorBudgetBurnPage6h: both windows burn at 0.9x the factor: quiet"),
    ],
    ids=["no-short-window", "no-long-window", "wrong-budget", "wrong-factor"],
)
def test_the_tests_fail_on_wrong_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mutation: Mutation, expected: str
) -> None:
    tests = generate(ENV, environment(ENV))  # from the right rules
    (tmp_path / rules_file_name(ENV)).write_text(dump(mutation(monkeypatch)))
    (tmp_path / rule_tests_file_name(ENV)).write_text(dump(tests))
    result = run_rule_tests(tmp_path / rule_tests_file_name(ENV))
    assert not result.ok
    assert "FAILED" in result.output
    assert expected in result.output

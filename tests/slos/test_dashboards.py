"""The generated Grafana dashboards query only series that exist.

Every panel's (and variable's) PromQL is split into tokens; the metric names among them must be
recorded by a rule of :func:`slos.rules.generate`, be Prometheus' ``ALERTS``, or be exported by a
real target: the operator's prometheus_client metrics (read from the objects it defines) and the
LibreChat API simulator's ``/metrics`` text. The expressions are also checked by ``promtool``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

from k8s_operator import autoscaler_metrics, handlers
from librechat_sim.metrics import Metrics
from slos import dashboards, definition, rules

ENVS = ("laptop", "staging", "production")

_TOKEN = re.compile(
    r"""
      (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
    | (?P<braces>\{[^}]*\})
    | (?P<brackets>\[[^\]]*\])
    | (?P<variable>\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*)
    | (?P<number>(?:0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)(?:[smhdwy]|ms)?)
    | (?P<name>[A-Za-z_:][A-Za-z0-9_:]*)
    | (?P<other>\S)
    """,
    re.VERBOSE,
)

KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "inf", "nan", "atan2", "sum", "min", "max", "avg", "group", "stddev",
    "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio",
}  # fmt: skip
"""PromQL's operators, modifiers and aggregations (whose ``by`` may come before the
parenthesis) that look like names."""

LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
"""Keywords followed by a parenthesised list of label names (not metrics)."""


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: names that are not functions (followed by
    ``(``), keywords, or labels in a ``by (...)`` list; strings, label matchers, ranges and
    durations are skipped whole."""
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(expr)]
    found: set[str] = set()
    skip_list = False
    for i, (kind, text) in enumerate(tokens):
        if skip_list:
            if text == ")":
                skip_list = False
            continue
        if kind != "name":
            continue
        after = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if text in LABEL_LISTS:
            skip_list = after == "("
            continue
        if text.lower() in KEYWORDS or after == "(":
            continue
        found.add(text)
    return found


def _queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(panel or variable, PromQL) of every query in a dashboard."""
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            text = variable["query"]["query"]
            match = re.fullmatch(r"label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\)", text)
            yield f"${variable['name']}", match[1] if match else text


def unknown_series(
    generated: dict[str, dict[str, Any]], known: set[str]
) -> list[tuple[str, str, str]]:
    """(dashboard, panel, metric) for every queried metric nothing records or exports."""
    return sorted(
        (file, panel, name)
        for file, dashboard in generated.items()
        for panel, expr in _queries(dashboard)
        for name in metric_names(expr)
        if name not in known
    )


def _exported(metric: MetricWrapperBase) -> set[str]:
    """The series names a prometheus_client metric object writes, by its type."""
    suffixes = {
        "counter": ("_total", "_created"),
        "gauge": ("",),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "summary": ("", "_count", "_sum", "_created"),
        "info": ("_info",),
    }
    return {f.name + s for f in metric.describe() for s in suffixes[f.type]}


def operator_series() -> set[str]:
    """Every series the operator's metrics port can serve."""
    objects: list[MetricWrapperBase] = [
        handlers.RECONCILES,
        handlers.SECONDS,
        handlers.WRITES,
        *autoscaler_metrics.ALL,
    ]
    return set().union(*(_exported(m) for m in objects))


def simulator_series() -> set[str]:
    """Every series the simulator's ``/metrics`` serves (after one request and one stream)."""
    metrics = Metrics("r0")
    metrics.observe("/api/auth/refresh", "POST", 200, 0.01)
    metrics.observe_first_token(0.5)
    return {
        sample.name
        for family in text_string_to_metric_families(metrics.render())
        for sample in family.samples
    }


@cache
def known_series(env: str) -> frozenset[str]:
    recorded = {
        rule["record"]
        for group in rules.generate(env, definition.environment(env))["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    return frozenset(recorded | {"ALERTS"} | operator_series() | simulator_series())


def test_the_tokenizer_finds_metrics_and_skips_everything_else() -> None:
    expr = (
        'sum by (route, le) (rate(http_requests_total{job="api",path=~"/a|b"}[5m] offset 1h))'
        " / on (route) group_left (team) max_over_time(slo:sli_error:ratio_rate5m[$__range])"
        ' > 14.4 and ALERTS{alertname="X"} or vector(1e3) unless up == bool 0'
    )
    assert metric_names(expr) == {
        "http_requests_total", "slo:sli_error:ratio_rate5m", "ALERTS", "up",
    }  # fmt: skip


@pytest.mark.parametrize("env", ENVS)
def test_every_panel_queries_a_series_a_rule_records_or_a_target_exports(env: str) -> None:
    generated = dashboards.generate(env, definition.environment(env))
    assert unknown_series(generated, set(known_series(env))) == []
    queried = {n for d in generated.values() for _, e in _queries(d) for n in metric_names(e)}
    # The check is not empty: it covered the rules, the alerts and the operator's gauges.
    assert {"ALERTS", "librechat_autoscaler_reason"} <= queried
    assert any(n.startswith(rules.BURN) for n in queried)


def test_a_panel_querying_a_series_nobody_produces_is_found() -> None:
    generated = dashboards.generate("laptop", definition.environment("laptop"))
    slo = generated[dashboards.slo_file("laptop")]
    wrong = dict(slo["panels"][1])
    wrong["title"] = "wrong"
    wrong["targets"] = [
        {"expr": 'sum(rate(slo:sli_error:ratio_rate2h{slo_env="laptop"}[5m]))'},
        {"expr": "librechat_autoscaler_forecasts - librechat_autoscaler_forecast"},
    ]
    broken = {**generated, "x.json": {**slo, "panels": [wrong]}}
    assert unknown_series(broken, set(known_series("laptop"))) == [
        ("x.json", "wrong", "librechat_autoscaler_forecasts"),
        ("x.json", "wrong", "slo:sli_error:ratio_rate2h"),
    ]


def test_each_objective_has_sli_burn_rate_and_budget_panels_with_the_alert_factors() -> None:
    slos = definition.environment("production")
    board = dashboards.slo_dashboard("production", slos)
    objectives = rules.objectives(slos)
    titles = [p["title"] for p in board["panels"] if p["type"] != "row"]
    assert len(titles) == 1 + 3 * len(objectives)
    burn = next(p for p in board["panels"] if p["title"].endswith("availability: burn rate"))
    steps = burn["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert {s["value"] for s in steps} - {None} == {a.factor for a in definition.BURN_ALERTS}
    budget = next(p for p in board["panels"] if "error budget left" in p["title"])
    assert budget["targets"][0]["expr"].startswith(f"1 - {rules.BURN}30d{{")
    assert board["templating"]["list"][0] == {
        **board["templating"]["list"][0],
        "name": "datasource",
        "type": "datasource",
        "query": "prometheus",
    }
    panels = [p for p in board["panels"] if p["type"] != "row"]
    assert all(p["datasource"] == {"type": "prometheus", "uid": "${datasource}"} for p in panels)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_every_query(tmp_path: Path) -> None:
    generated = dashboards.generate("production", definition.environment("production"))
    records = [
        {"record": f"dashboard:query{i}", "expr": re.sub(r"\$\{?\w+\}?", ".*", expr)}
        for i, (_, expr) in enumerate(q for d in generated.values() for q in _queries(d))
    ]
    path = tmp_path / "queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": records}]}))
    result = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr

"""The program ships the SLO rules, the dashboards, the scrape targets and the alert routing.

Every assertion reads what the committed stacks' program declares under Pulumi's mocks, and
compares it with what the generators, the operator and the charts really produce: the rules of
``slos.rules.generate``, the Service the operator gives the AI gateway, the operator's own pod
labels, the label kube-prometheus-stack's Prometheus selects by. The Alertmanager configuration
is checked by Alertmanager's own ``amtool``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from components.errors import ConfigError
from components.k8s_objects import APP_NAMESPACE, MONITORING_NAMESPACE
from components.librechat import librechat_object
from components.mocks import PlannedResource
from components.monitoring import (
    ALERTMANAGER_KEY,
    ALERTMANAGER_SECRET,
    RECEIVER,
    RECEIVER_KEY,
    alertmanager_yaml,
)
from components.plan import Plan, run_program
from components.stackfile import default_program_dir, load_stack, placeholder
from k8s_operator import children, deploy
from k8s_operator.model import ServiceSpec
from k8s_operator.platform import api_service, inventory_services
from librechat_ops.cli import app
from slos import dashboards, definition, rules

from .planning import ENVS, is_secret, plan_of, unwrap

CLOUDS = ("staging", "production")
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
RECEIVER_SETTINGS = {
    "pagerduty_configs": [{"routing_key": "stack-secret-routing-key", "send_resolved": True}]
}


def _of(plan: Plan, typ: str) -> list[PlannedResource]:
    return plan.of_type(typ)


def _kps(plan: Plan) -> list[PlannedResource]:
    return [r for r in _of(plan, RELEASE_TYPE) if r.inputs["chart"] == "kube-prometheus-stack"]


def _regions(plan: Plan) -> int:
    return len(_of(plan, "librechat:environment:Region"))


def _rule_count(document: dict[str, Any]) -> int:
    return sum(len(group["rules"]) for group in document["groups"])


@pytest.mark.parametrize("env", ENVS)
def test_each_region_ships_the_generated_rules_where_the_charts_prometheus_selects_them(
    env: str,
) -> None:
    plan = plan_of(env)
    objects = _of(plan, "kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    assert len(objects) == _regions(plan)
    expected = rules.generate(env, definition.environment(env))
    releases = _kps(plan)
    for planned in objects:
        assert _rule_count(planned.inputs["spec"]) == _rule_count(expected) > 0
        assert planned.inputs["spec"] == json.loads(json.dumps(expected))
        # ruleSelectorNilUsesHelmValues (the chart's default) selects `release: <release name>`.
        assert {planned.inputs["metadata"]["labels"]["release"]} == {
            r.inputs["name"] for r in releases
        }


@pytest.mark.parametrize("env", ENVS)
def test_dashboards_are_config_maps_for_grafanas_sidecar_where_grafana_runs(env: str) -> None:
    plan = plan_of(env)
    maps = [
        r
        for r in _of(plan, "kubernetes:core/v1:ConfigMap")
        if r.inputs["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    ]
    grafana = {r.inputs["values"]["grafana"]["enabled"] for r in _kps(plan)}
    if grafana == {False}:
        assert maps == []
        return
    assert grafana == {True}
    generated = dashboards.generate(env, definition.environment(env))
    assert len(maps) == len(generated) * _regions(plan)
    for planned in maps:
        assert planned.inputs["metadata"]["namespace"] == MONITORING_NAMESPACE
        ((file, text),) = planned.inputs["data"].items()
        assert json.loads(text) == generated[file]


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


def _operator_services() -> dict[str, dict[str, Any]]:
    """The Services the operator creates for the platform the program renders, by name."""
    body = librechat_object(
        region="eu-west-1",
        namespace=APP_NAMESPACE,
        version="v0.8.8-rc1",
        secret_name="librechat-shared",
        labels={},
    )
    body["metadata"]["uid"] = "uid-platform"
    services = {}
    for resource in [api_service(body, "v0.8.8-rc1"), *inventory_services(body)]:
        resource["metadata"]["uid"] = f"uid-{resource['metadata']['name']}"
        service = children.service(ServiceSpec.from_resource(resource))
        services[service["metadata"]["name"]] = service
    return services


@pytest.mark.parametrize("env", ENVS)
def test_the_gateways_service_monitor_selects_the_service_the_operator_creates(env: str) -> None:
    services = _operator_services()
    monitors = _of(plan_of(env), "kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
    assert len(monitors) == _regions(plan_of(env))
    for planned in monitors:
        spec = planned.inputs["spec"]
        selected = [
            s
            for s in services.values()
            if s["metadata"]["namespace"] == planned.inputs["metadata"]["namespace"]
            and _selects(spec["selector"], s["metadata"]["labels"])
        ]
        assert [s["metadata"]["name"] for s in selected] == ["librechat-ai-gateway"]
        ports = {p["name"] for p in selected[0]["spec"]["ports"]}
        assert {e["port"] for e in spec["endpoints"]} <= ports
        assert planned.inputs["metadata"]["labels"]["release"] == "kube-prometheus-stack"


@pytest.mark.parametrize("env", ENVS)
def test_the_operators_pod_monitor_selects_its_pods_on_the_metrics_port(env: str) -> None:
    operator = deploy.deployment()
    template = operator["spec"]["template"]
    ports = {p["name"] for c in template["spec"]["containers"] for p in c["ports"]}
    monitors = _of(plan_of(env), "kubernetes:monitoring.coreos.com/v1:PodMonitor")
    assert len(monitors) == _regions(plan_of(env))
    for planned in monitors:
        assert planned.inputs["metadata"]["namespace"] == operator["metadata"]["namespace"]
        assert _selects(planned.inputs["spec"]["selector"], template["metadata"]["labels"])
        assert {e["port"] for e in planned.inputs["spec"]["podMetricsEndpoints"]} <= ports
        assert planned.inputs["metadata"]["labels"]["release"] == "kube-prometheus-stack"


@pytest.mark.parametrize("env", CLOUDS)
def test_kong_measures_the_librechat_pools_for_the_releases_prometheus(env: str) -> None:
    plan = plan_of(env)
    (kong,) = {
        json.dumps(r.inputs["values"]["serviceMonitor"], sort_keys=True)
        for r in _of(plan, RELEASE_TYPE)
        if r.inputs["chart"] == "kong"
    }
    assert json.loads(kong) == {"enabled": True, "labels": {"release": "kube-prometheus-stack"}}
    plugins = _of(plan, "kubernetes:configuration.konghq.com/v1:KongClusterPlugin")
    assert len(plugins) == _regions(plan)
    assert all(p.inputs["plugin"] == "prometheus" for p in plugins)
    assert all(p.inputs["config"]["status_code_metrics"] for p in plugins)


def _alertmanager_secrets(plan: Plan) -> list[PlannedResource]:
    return [
        r
        for r in _of(plan, "kubernetes:core/v1:Secret")
        if r.inputs["metadata"]["name"] == ALERTMANAGER_SECRET
    ]


@pytest.mark.parametrize("env", ENVS)
def test_without_a_receiver_nothing_is_invented_and_the_plan_says_so(env: str) -> None:
    plan = plan_of(env)
    assert _alertmanager_secrets(plan) == []
    for release in _kps(plan):
        assert "alertmanagerSpec" not in release.inputs["values"]["alertmanager"]
    said = [n for n in plan.notes if "no alert receiver" in n]
    assert len(said) == (env in CLOUDS)


def _plan_with_receiver(env: str, value: str, *, secret: bool = True) -> Plan:
    stack = load_stack(default_program_dir(), env)
    config = {**stack.config, RECEIVER_KEY: value}
    secrets = [*stack.secret_keys, RECEIVER_KEY] if secret else list(stack.secret_keys)
    return run_program(default_program_dir(), env, config, secrets)


@pytest.fixture(scope="module")
def routed() -> Plan:
    return _plan_with_receiver("staging", json.dumps(RECEIVER_SETTINGS))


def _amtool(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / ALERTMANAGER_KEY
    path.write_text(text)
    return subprocess.run(
        ["amtool", "check-config", str(path)], capture_output=True, text=True, check=False
    )


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool is not installed")
def test_a_receiver_from_the_stack_gets_page_and_ticket_alerts(
    routed: Plan, tmp_path: Path
) -> None:
    (secret,) = _alertmanager_secrets(routed)
    assert secret.inputs["metadata"]["namespace"] == MONITORING_NAMESPACE
    text = unwrap(secret.inputs["stringData"])[ALERTMANAGER_KEY]
    config = yaml.safe_load(text)
    routes = {r["matchers"][0]: r["receiver"] for r in config["route"]["routes"]}
    assert routes == {'severity="page"': RECEIVER, 'severity="ticket"': RECEIVER}
    (receiver,) = [r for r in config["receivers"] if r["name"] == RECEIVER]
    assert receiver == {"name": RECEIVER, **RECEIVER_SETTINGS}
    # Nothing invented: every URL or key in the file is the stack's own.
    assert re.findall(r"https?://\S+", text) == []
    assert "example" not in text.lower()
    assert "placeholder" not in text.lower()
    (release,) = _kps(routed)
    assert release.inputs["values"]["alertmanager"]["alertmanagerSpec"] == {
        "useExistingSecret": True,
        "configSecret": ALERTMANAGER_SECRET,
    }
    assert not [n for n in routed.notes if "no alert receiver" in n]
    checked = _amtool(tmp_path, text)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_alert_secret_is_secret_in_the_plan(routed: Plan) -> None:
    (secret,) = _alertmanager_secrets(routed)
    assert is_secret(secret.inputs["stringData"]), "the configuration must stay a secret Output"


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool is not installed")
def test_amtool_refuses_a_broken_route(tmp_path: Path) -> None:
    text = alertmanager_yaml(RECEIVER_SETTINGS).replace(f"receiver: {RECEIVER}", "receiver: nope")
    assert _amtool(tmp_path, text).returncode != 0


@pytest.mark.parametrize(
    ("value", "secret", "key", "problem"),
    [
        (json.dumps(RECEIVER_SETTINGS), False, RECEIVER_KEY, "plain text"),
        ("not json", True, RECEIVER_KEY, "JSON object"),
        (json.dumps({"pager_configs": [{}]}), True, f"{RECEIVER_KEY}.pager_configs", "known"),
        (json.dumps({"slack_configs": []}), True, f"{RECEIVER_KEY}.slack_configs", "non-empty"),
    ],
)
def test_a_bad_receiver_is_a_config_error_naming_its_key(
    value: str, secret: bool, key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _plan_with_receiver("staging", value, secret=secret)
    assert info.value.key == key
    assert problem in info.value.problem


def test_an_unknown_slo_environment_is_a_config_error() -> None:
    stack = load_stack(default_program_dir(), "laptop")
    config = {**stack.config, "librechat:sloEnvironment": "qa"}
    with pytest.raises(ConfigError) as info:
        run_program(default_program_dir(), "laptop", config, list(stack.secret_keys))
    assert info.value.key == "librechat:sloEnvironment"
    assert "laptop, production, staging" in info.value.problem


def test_the_plan_command_reports_the_missing_receiver() -> None:
    result = CliRunner().invoke(app, ["plan", "--env", "staging", "--json"])
    assert result.exit_code == 0, result.output
    (note,) = json.loads(result.stdout)["notes"]
    assert note.startswith(f"warning: no alert receiver: {RECEIVER_KEY} is not set")


def test_a_secure_receiver_the_offline_plan_cannot_decrypt_still_plans_its_secret() -> None:
    plan = _plan_with_receiver("staging", placeholder(RECEIVER_KEY))
    (secret,) = _alertmanager_secrets(plan)
    config = yaml.safe_load(unwrap(secret.inputs["stringData"])[ALERTMANAGER_KEY])
    assert {"name": RECEIVER} in config["receivers"]  # its settings stay unknown, none invented


@pytest.mark.parametrize("env", ENVS)
def test_the_operators_guards_read_the_stacks_slo_environment(env: str) -> None:
    operators = [
        r
        for r in _of(plan_of(env), "kubernetes:apps/v1:Deployment")
        if r.inputs["metadata"]["name"] == deploy.NAME
    ]
    assert len(operators) == _regions(plan_of(env))
    for planned in operators:
        (container,) = planned.inputs["spec"]["template"]["spec"]["containers"]
        settings = {e["name"]: e.get("value") for e in container["env"]}
        assert settings["LIBRECHAT_SLO_ENV"] == env
        assert env in definition.load().environments

"""The AI gateway's LiteLLM configuration: read from the stack, rendered into its ConfigMap."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from components.errors import ConfigError
from components.gateway import (
    CONFIG_FILE,
    CONFIG_MAP_NAME,
    GatewaySettings,
    litellm_config,
    settings_from_config,
)
from components.k8s_objects import APP_NAMESPACE
from components.platform import rendered_objects
from components.stackfile import default_program_dir, load_stack

from .planning import ENVS, plan_of


def _stack_gateway(env: str) -> GatewaySettings:
    raw = load_stack(default_program_dir(), env).config.get("librechat:gateway")
    return settings_from_config(None if raw is None else json.loads(raw))


@pytest.mark.parametrize("env", ENVS)
def test_every_region_has_a_config_map_holding_the_stacks_litellm_config(env: str) -> None:
    plan = plan_of(env)
    maps = [r for r in plan.of_type("kubernetes:core/v1:ConfigMap") if CONFIG_MAP_NAME in r.name]
    regions = len(plan.of_type("librechat:environment:Region"))
    assert len(maps) == regions
    expected = litellm_config(_stack_gateway(env))
    for planned in maps:
        assert planned.inputs["metadata"]["namespace"] == APP_NAMESPACE
        assert yaml.safe_load(planned.inputs["data"][CONFIG_FILE]) == expected


def test_production_routes_to_a_primary_and_falls_back_to_a_second_provider() -> None:
    config = litellm_config(_stack_gateway("production"))
    primary, fallback = config["model_list"]
    assert primary["model_name"] == "gpt-4o-mini"
    assert primary["litellm_params"]["api_base"] == "https://api.openai.com/v1"
    assert fallback["litellm_params"]["api_base"].endswith(".openai.azure.com/openai/v1")
    assert primary["litellm_params"]["api_key"] == "os.environ/OPENAI_API_KEY"
    assert primary["litellm_params"]["stream_timeout"] == 2.0
    router = config["router_settings"]
    assert router["fallbacks"] == [{"gpt-4o-mini": [fallback["model_name"]]}]
    assert router["num_retries"] == 2
    assert config["general_settings"] == {"master_key": "os.environ/LITELLM_MASTER_KEY"}
    assert "prometheus" in config["litellm_settings"]["callbacks"]


def test_the_rendered_objects_carry_the_settings_they_are_given() -> None:
    custom = settings_from_config({"modelName": "team-model", "numRetries": 0})
    objects = rendered_objects(
        kind="laptop", region="local", image_tag="v1", labels={}, kms_key_arn=None, gateway=custom
    )
    (config_map,) = [o for o in objects if o["metadata"].get("name") == CONFIG_MAP_NAME]
    config: dict[str, Any] = yaml.safe_load(config_map["data"][CONFIG_FILE])
    assert config["model_list"][0]["model_name"] == "team-model"
    assert config["router_settings"]["num_retries"] == 0


@pytest.mark.parametrize(
    ("value", "key", "problem"),
    [
        ("fast", "librechat:gateway", "must be an object"),
        ({"retries": 2}, "librechat:gateway.retries", "is not a setting"),
        ({"primary": {"apiBase": "api.openai.com"}}, "librechat:gateway.primary.apiBase", "URL"),
        ({"numRetries": -1}, "librechat:gateway.numRetries", "at least 0"),
        (
            {"timeoutS": 5, "fallback": {"streamTimeoutS": 10}},
            "librechat:gateway.fallback.streamTimeoutS",
            "exceeds timeoutS",
        ),
    ],
)
def test_a_bad_gateway_setting_names_its_key(value: Any, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        settings_from_config(value)
    assert error.value.key == key
    assert problem in error.value.problem

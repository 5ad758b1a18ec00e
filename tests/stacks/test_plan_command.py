"""``librechat-ops plan``: output, JSON, comparison, and one clear error for bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from components.stackfile import default_program_dir
from librechat_ops.cli import app

runner = CliRunner()


def _stderr(result: Result) -> str:
    """Standard error with rich's line folding undone."""
    return result.stderr.replace("\n", "")


def test_plan_prints_the_tree_and_the_cost() -> None:
    result = runner.invoke(app, ["plan", "--env", "staging"])
    assert result.exit_code == 0, result.output
    assert "us-east-1" in result.stdout
    assert "Network lc-stg-use1-net" in result.stdout
    assert "estimated monthly cost" in result.stdout
    assert "as of 2025-06-01" in result.stdout


def test_plan_json_with_compare() -> None:
    result = runner.invoke(app, ["plan", "--env", "laptop", "--json", "--compare", "staging"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["env"] == "laptop"
    assert data["monthly_cost_usd"]["total"] == 0
    assert set(data["tree"]) == {"local"}
    assert data["compare"]["env"] == "staging"
    assert data["compare"]["type_counts"]["aws:eks/cluster:Cluster"] == {"from": 0, "to": 1}
    assert data["compare"]["monthly_cost_change_usd"] > 0


def test_unknown_env_is_one_clear_error() -> None:
    result = runner.invoke(app, ["plan", "--env", "qa"])
    assert result.exit_code == 2
    assert "unknown environment 'qa'" in _stderr(result)
    assert "laptop, production, staging" in _stderr(result)
    assert "Traceback" not in result.output


def test_bad_config_names_the_key_and_the_file(tmp_path: Path) -> None:
    program = tmp_path / "stacks"
    shutil.copytree(default_program_dir(), program, ignore=shutil.ignore_patterns("__pycache__"))
    stack = program / "Pulumi.staging.yaml"
    stack.write_text(stack.read_text().replace("- us-east-1\n", "- us-east-9\n", 1))
    result = runner.invoke(app, ["plan", "--env", "staging", "--program", str(program)])
    assert result.exit_code == 2
    assert "librechat:regions: unknown region 'us-east-9'" in _stderr(result)
    assert "Pulumi.staging.yaml" in _stderr(result)
    assert "Traceback" not in result.output


def test_plan_json_inputs_shows_every_resource_with_secrets_masked() -> None:
    result = runner.invoke(app, ["plan", "--env", "staging", "--json", "--inputs"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    steps = data["steps"]
    assert sum(s["newState"]["custom"] for s in steps) == data["resources"]
    states = [s["newState"] for s in steps]
    shared = next(
        state
        for state in states
        if state["type"] == "kubernetes:core/v1:Secret"
        and state["inputs"]["metadata"]["name"] == "librechat-shared"
    )
    assert shared["inputs"]["stringData"] == "[secret]"
    assert "offline-plan-secret-placeholder" not in result.stdout
    edge = next(
        state
        for state in states
        if state["type"] == "kubernetes:core/v1:Service"
        and state["inputs"]["metadata"]["name"] == "kong-edge"
    )
    assert edge["inputs"]["spec"]["type"] == "LoadBalancer"
    assert edge["parent"]
    router = next(s for s in states if s["type"] == "aws:lambda/function:Function")
    assert "exports.handler" in router["inputs"]["code"]["archive"]["index.js"]["text"]


def test_inputs_without_json_is_a_clear_error() -> None:
    result = runner.invoke(app, ["plan", "--env", "staging", "--inputs"])
    assert result.exit_code == 2
    assert "--json --inputs" in _stderr(result)

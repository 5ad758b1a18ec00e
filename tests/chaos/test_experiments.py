"""Every experiment in ``chaos/experiments/`` is valid, safe to schedule and tunable.

Each file (globbed, so new experiments are checked without touching this test) must pass the real
``chaos validate`` in an environment without any of our variables (every configuration entry has
a default), have a steady-state hypothesis with probes, rollbacks that always run
(``runtime.rollbacks.strategy = always``: ``chaos run`` honours it as if given
``--rollback-strategy=always``), call only our extension, chaosaws or chaosk8s, and take its
durations from configuration. The extension's modules are discoverable by ``chaos discover``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chaoslib.discovery.discover import discover_activities

from chaos.aws.arc import endpoints
from chaos.errors import ChaosError

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = sorted((ROOT / "chaos" / "experiments").glob("*.json"))
CHAOS = Path(sys.executable).with_name("chaos")
ALLOWED_MODULES = re.compile(r"^(chaos|chaosaws|chaosk8s)(\.|$)")
REFERENCE = re.compile(r"^\$\{([A-Za-z0-9_]+)\}$")
DURATION_ARG = re.compile(r"(_s|_seconds|duration|timeout|window)$")
LONGEST_LITERAL_S = 5
"""A literal pause or duration argument up to this is a settle time, not a tunable duration."""

OUR_VARIABLES = re.compile(r"^(LIBRECHAT_|ARC_|AWS_|KUBECONFIG$|CHAOS_)")


def _load(path: Path) -> dict[str, Any]:
    experiment: dict[str, Any] = json.loads(path.read_text())
    return experiment


def _activities(experiment: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from experiment.get("steady-state-hypothesis", {}).get("probes", [])
    yield from experiment.get("method", [])
    yield from experiment.get("rollbacks", [])


@pytest.fixture(params=EXPERIMENTS, ids=[p.name for p in EXPERIMENTS])
def experiment_file(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


def test_every_experiment_the_issue_names_is_shipped() -> None:
    assert {p.stem for p in EXPERIMENTS} == {
        "ai-gateway-pod-kill",
        "llm-latency",
        "node-loss",
        "redis-network-degraded",
        "redis-outage",
        "region-failover-aws",
        "region-failover-local",
        "replica-kill-mid-stream",
    }


def test_chaos_validate_accepts_it_with_defaults_only(
    experiment_file: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not OUR_VARIABLES.match(k)}
    env["HOME"] = str(tmp_path)  # no ~/.chaostoolkit/settings.yaml of the user's
    result = subprocess.run(
        [str(CHAOS), "--no-version-check", "validate", str(experiment_file)],
        cwd=tmp_path,  # chaostoolkit.log goes here
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "look valid" in result.stdout + result.stderr


def test_it_has_a_steady_state_and_rollbacks_that_always_run(experiment_file: Path) -> None:
    experiment = _load(experiment_file)
    hypothesis = experiment.get("steady-state-hypothesis", {})
    assert hypothesis.get("probes"), "no steady-state probe"
    assert experiment.get("rollbacks"), "no rollback"
    strategy = experiment.get("runtime", {}).get("rollbacks", {}).get("strategy")
    assert strategy == "always", (
        'add "runtime": {"rollbacks": {"strategy": "always"}} so `chaos run` plays the '
        "rollbacks even when the hypothesis fails or the run is interrupted"
    )


def test_it_calls_only_our_extension_and_the_chaostoolkit_drivers(experiment_file: Path) -> None:
    for activity in _activities(_load(experiment_file)):
        provider = activity.get("provider", {})
        if provider.get("type") == "python":
            module = provider["module"]
            assert ALLOWED_MODULES.match(module), f"{activity['name']} calls {module}"
            function = getattr(importlib.import_module(module), provider["func"])
            assert function.__doc__, f"{module}.{provider['func']} has no docstring"


def test_its_durations_are_configurable(experiment_file: Path) -> None:
    experiment = _load(experiment_file)
    configuration = experiment.get("configuration", {})

    def check(where: str, value: Any) -> None:
        match = REFERENCE.match(value) if isinstance(value, str) else None
        if match is None:
            assert isinstance(value, int | float), f"{where} = {value!r}"
            assert value <= LONGEST_LITERAL_S, f"{where} = {value} s is fixed: use ${{a_key}}"
            return
        entry = configuration.get(match.group(1))
        assert entry is not None, f"{where} refers to unknown configuration {match.group(1)}"
        assert isinstance(entry, dict), f"{where}: {match.group(1)} is not set from env"
        assert entry.get("type") == "env", f"{where}: {match.group(1)} is not set from env"
        assert "default" in entry, f"{match.group(1)} has no default"
        assert entry.get("env_var_type") in ("int", "float"), f"{match.group(1)} is not a number"

    for activity in _activities(experiment):
        for when, value in activity.get("pauses", {}).items():
            check(f"{activity['name']} pause {when}", value)
        provider = activity.get("provider", {})
        if provider.get("type") == "python":
            for name, value in provider.get("arguments", {}).items():
                if DURATION_ARG.search(name):
                    check(f"{activity['name']} argument {name}", value)


EXTENSION_MODULES = sorted(
    f"chaos.{p.parent.name}.{p.stem}"
    for p in (ROOT / "chaos").glob("*/*.py")
    if p.stem in ("actions", "probes")
)


@pytest.mark.parametrize("module", EXTENSION_MODULES)
def test_chaos_discover_describes_every_activity(module: str) -> None:
    kind = "action" if module.endswith(".actions") else "probe"
    loaded = importlib.import_module(module)
    activities = discover_activities(module, kind)
    assert sorted(a["name"] for a in activities) == sorted(loaded.__all__)
    for activity in activities:
        assert activity["doc"], f"{activity['name']} has no docstring"
        parameters = inspect.signature(getattr(loaded, activity["name"])).parameters.values()
        unreadable = [
            p.name
            for p in parameters
            if p.annotation is inspect.Parameter.empty or isinstance(p.annotation, str)
        ]
        assert not unreadable, (
            f"{module}.{activity['name']}: chaos discover cannot read the types of {unreadable} "
            "(annotations are strings under `from __future__ import annotations`)"
        )


def test_arc_endpoints_are_parsed_and_mistakes_named() -> None:
    urls = _load(ROOT / "chaos/experiments/region-failover-aws.json")["configuration"][
        "arc_cluster_endpoints"
    ]["default"]
    regions = [region for region, _ in endpoints(urls)]
    assert regions == ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "ap-northeast-1"]
    with pytest.raises(ChaosError, match="not an ARC cluster endpoint"):
        endpoints("https://example.com")
    with pytest.raises(ChaosError, match="no ARC cluster endpoint"):
        endpoints(" , ")

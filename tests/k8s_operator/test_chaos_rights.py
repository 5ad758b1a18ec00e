"""Which images chaos runs may use, and the rights table (pure functions; the API server's own
enforcement of them is in ``test_rbac.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from k8s_operator import chaos_rights, deploy
from k8s_operator.settings import OperatorSettings

EXPERIMENTS = Path(__file__).resolve().parents[2] / "chaos" / "experiments"


@pytest.mark.parametrize(
    ("image", "allowed", "expected"),
    [
        ("librechat-ops:0.1.0", ("librechat-ops",), True),
        ("librechat-ops@sha256:ab12", ("librechat-ops",), True),
        ("librechat-ops", ("librechat-ops",), True),
        ("librechat-ops-evil:1", ("librechat-ops",), False),
        ("docker.io/someone/librechat-ops:1", ("librechat-ops",), False),
        ("ghcr.io/acme/librechat-ops:2.0", ("ghcr.io/acme/librechat-ops:1.0",), False),
        ("ghcr.io/acme/librechat-ops:1.0", ("x", "ghcr.io/acme/librechat-ops:1.0"), True),
        ("anything:1", (), False),
    ],
)
def test_an_image_is_allowed_by_repository_or_whole_reference(
    image: str, allowed: tuple[str, ...], expected: bool
) -> None:
    assert chaos_rights.image_allowed(image, allowed) is expected


def test_the_allow_list_is_read_from_the_environment() -> None:
    assert OperatorSettings.from_env({}).chaos_images == ("librechat-ops",)
    env = {"LIBRECHAT_OPERATOR_CHAOS_IMAGES": " ghcr.io/a/x , registry:5000/y:1,, "}
    assert OperatorSettings.from_env(env).chaos_images == ("ghcr.io/a/x", "registry:5000/y:1")
    assert OperatorSettings.from_env({"LIBRECHAT_OPERATOR_CHAOS_IMAGES": " , "}).chaos_images == (
        "librechat-ops",
    )


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("librechat-ops:0.1.0", "librechat-ops"),
        ("ghcr.io/acme/librechat-ops:1.2", "ghcr.io/acme/librechat-ops"),
        ("registry:5000/team/ops:3", "registry:5000/team/ops"),
        ("registry:5000/team/ops", "registry:5000/team/ops"),
        ("ghcr.io/acme/ops:1@sha256:ab12", "ghcr.io/acme/ops"),
    ],
)
def test_the_deployed_operator_allows_its_own_images_repository(
    image: str, repository: str
) -> None:
    env = {e["name"]: e.get("value") for e in _container(deploy.deployment(image))["env"]}
    assert env["LIBRECHAT_OPERATOR_CHAOS_IMAGES"] == repository


def test_every_experiment_with_rights_exists_and_acts_on_kubernetes() -> None:
    for name in chaos_rights.EXPERIMENT_RULES:
        experiment = json.loads((EXPERIMENTS / f"{name}.json").read_text())
        modules = {
            activity["provider"].get("module", "")
            for section in ("method", "rollbacks")
            for activity in experiment.get(section, [])
        }
        assert "chaos.kubernetes.actions" in modules, name
    # The rest act on the simulator, Toxiproxy or AWS: no Kubernetes rights for their runs.
    for path in EXPERIMENTS.glob("*.json"):
        experiment = json.loads(path.read_text())
        calls = json.dumps(experiment)
        if path.stem not in chaos_rights.EXPERIMENT_RULES and path.stem != "node-loss":
            assert "chaos.kubernetes" not in calls, path.stem


def _container(deployment: dict[str, object]) -> dict[str, list[dict[str, str]]]:
    spec = deployment["spec"]
    assert isinstance(spec, dict)
    container: dict[str, list[dict[str, str]]] = spec["template"]["spec"]["containers"][0]
    return container

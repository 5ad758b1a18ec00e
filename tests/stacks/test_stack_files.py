"""The committed Pulumi.yaml and stack files: layout, and secrets only as `secure:` values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from components.spec import DATA_SECRET_KEYS, SHARED_SECRET_KEYS
from components.stackfile import available_envs, default_program_dir, load_stack, placeholder

ROOT = default_program_dir().parent


def test_project_file_points_at_the_stacks_directory() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["main"] == "stacks/"
    assert project["stackConfigDir"] == "stacks/"
    assert project["runtime"]["name"] == "python"
    assert available_envs(default_program_dir()) == ["laptop", "production", "staging"]


def _config(env: str) -> dict[str, object]:
    path: Path = default_program_dir() / f"Pulumi.{env}.yaml"
    return dict(yaml.safe_load(path.read_text())["config"])


@pytest.mark.parametrize("env", ["laptop", "staging", "production"])
def test_secrets_are_only_secure_values(env: str) -> None:
    config = _config(env)
    keys = list(SHARED_SECRET_KEYS) + (list(DATA_SECRET_KEYS) if env != "laptop" else [])
    for key in keys:
        value = config[f"librechat:{key}"]
        assert isinstance(value, dict), key
        assert set(value) == {"secure"}, key
    secure = [k for k, v in config.items() if isinstance(v, dict) and set(v) == {"secure"}]
    assert sorted(secure) == sorted(f"librechat:{k}" for k in keys)
    assert config["librechat:environment"] == env


def test_secure_values_become_secret_placeholders_and_structures_json() -> None:
    stack = load_stack(default_program_dir(), "production")
    assert "librechat:jwtSecret" in stack.secret_keys
    assert stack.config["librechat:jwtSecret"] == placeholder("librechat:jwtSecret")
    assert json.loads(stack.config["librechat:regions"])[0] == "us-east-1"
    assert stack.config["librechat:deletionProtection"] == "true"
    assert not any(k in stack.secret_keys for k in ("librechat:regions", "librechat:domain"))

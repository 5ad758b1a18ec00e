"""Read a committed ``Pulumi.<env>.yaml`` into the config map the Pulumi runtime expects.

What belongs here: locating the program and its stack files, and turning a stack file into
``(config, secret_keys)``. ``secure:`` values cannot be decrypted without the Pulumi engine, so
the offline plan replaces each with a placeholder that is marked secret, exactly as the engine
marks real secrets: the program sees a secret Output either way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import PlanError

PLACEHOLDER_PREFIX = "offline-plan-secret-placeholder:"
"""Prefix of the stand-in value given to every ``secure:`` key in an offline plan."""


def default_program_dir() -> Path:
    """The Pulumi program with its stack files: ``program/`` inside this package when installed
    from a wheel (``setup.py`` copies it there), else ``stacks/`` next to this package in a
    checkout (where ``Pulumi.yaml`` points)."""
    here = Path(__file__).resolve().parent
    installed = here / "program"
    return installed if (installed / "__main__.py").is_file() else here.parent / "stacks"


def available_envs(program_dir: Path) -> list[str]:
    """Stack names that have a committed ``Pulumi.<name>.yaml``."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in program_dir.glob("Pulumi.*.yaml"))


@dataclass(frozen=True)
class StackConfig:
    """A stack file as the runtime sees it."""

    config: dict[str, str]
    """Full key (``librechat:regions``) -> value; structured values JSON-encoded."""
    secret_keys: list[str]
    """Keys whose values are secret."""


def placeholder(key: str) -> str:
    """The stand-in value of a ``secure:`` key."""
    return f"{PLACEHOLDER_PREFIX}{key}"


def _encode(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def load_stack(program_dir: Path, env: str) -> StackConfig:
    """Read ``Pulumi.<env>.yaml``; PlanError for an unknown env or an unreadable file."""
    path = program_dir / f"Pulumi.{env}.yaml"
    if not path.is_file():
        known = ", ".join(available_envs(program_dir)) or "none"
        raise PlanError(f"unknown environment {env!r}; stacks in {program_dir}: {known}")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PlanError(f"{path} is not valid YAML: {exc}") from None
    raw = doc.get("config") or {}
    if not isinstance(raw, dict):
        raise PlanError(f"{path}: `config` must be a mapping")
    config: dict[str, str] = {}
    secrets: list[str] = []
    for key, value in raw.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = placeholder(key)
            secrets.append(key)
        else:
            config[key] = _encode(value)
    return StackConfig(config, secrets)

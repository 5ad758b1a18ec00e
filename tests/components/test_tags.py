"""Every taggable AWS resource carries the environment's tags."""

from __future__ import annotations

import importlib
import inspect
import keyword

import pytest

from .planning import plan_of

REQUIRED = {"project": "librechat", "managed-by": "pulumi"}


def _takes_tags(token: str) -> bool:
    """Whether the pulumi-aws class behind a type token has a ``tags`` argument."""
    _, module_path, cls = token.split(":")
    module = module_path.split("/")[0]
    module = f"{module}_" if keyword.iskeyword(module) else module
    resource = getattr(importlib.import_module(f"pulumi_aws.{module}"), cls)
    return "tags" in inspect.signature(resource._internal_init).parameters


@pytest.mark.filterwarnings("ignore::DeprecationWarning:pulumi_aws")
@pytest.mark.parametrize("env", ["staging", "production"])
def test_every_taggable_aws_resource_is_tagged(env: str) -> None:
    plan = plan_of(env)
    aws = [r for r in plan.custom if r.type.startswith("aws:")]
    taggable = [r for r in aws if _takes_tags(r.type)]
    assert len(taggable) > len(aws) / 2
    missing = [
        (r.type, r.name)
        for r in taggable
        if not REQUIRED.items() <= r.inputs.get("tags", {}).items()
        or r.inputs["tags"].get("environment") != env
    ]
    assert missing == []

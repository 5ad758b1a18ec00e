"""Shared test helpers: plans of the committed stacks (one per process) and input walkers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from components.mocks import PlannedResource
from components.plan import Plan, locate, plan_env
from components.platform import EdgeWiring
from components.stackfile import default_program_dir

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
"""Key marking a secret value in the inputs the engine receives."""

ENVS = ("laptop", "staging", "production")

SAMPLE_EDGE = EdgeWiring(
    certificate_arn="arn:aws:acm:eu-west-1:111122223333:certificate/origin",
    security_groups="sg-0cloudfront,sg-0healthchecks",
    ratelimit_redis_host="master.lc-stg-euw1-ratelimit.abc123.euw1.cache.amazonaws.com",
)
"""The region's way in as plain strings, for the pure renderings of the cloud platforms."""


def edge_for(kind: str) -> EdgeWiring | None:
    """:data:`SAMPLE_EDGE` for a cloud kind, None for the laptop."""
    return None if kind == "laptop" else SAMPLE_EDGE


@cache
def plan_of(env: str) -> Plan:
    """The committed stack's plan (run once per test process; plans are read-only)."""
    return plan_env(env, default_program_dir())


def plain_strings(value: Any) -> Iterator[str]:
    """Every string in ``value`` that is not inside a secret-wrapped subtree."""
    if isinstance(value, dict):
        if SECRET_SIG_KEY in value:
            return
        for k, v in value.items():
            yield str(k)
            yield from plain_strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from plain_strings(v)
    elif isinstance(value, str):
        yield value


def unwrap(value: Any) -> Any:
    """The value inside a secret wrapper (or the value itself)."""
    if isinstance(value, dict) and SECRET_SIG_KEY in value:
        return value["value"]
    return value


def is_secret(value: Any) -> bool:
    """True when ``value`` is secret-wrapped."""
    return isinstance(value, dict) and SECRET_SIG_KEY in value


def snake(value: Any) -> Any:
    """camelCase keys (as the engine sees them) back to the snake_case the components write."""
    if isinstance(value, dict):
        return {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def region_of(plan: Plan, resource: PlannedResource) -> str:
    """The region group (or ``global``) a resource belongs to."""
    return locate(plan)[resource.urn][0]


def provider_region(plan: Plan, resource: PlannedResource) -> str:
    """The ``region`` input of the provider a resource is created with."""
    assert resource.provider, f"{resource.name} has no explicit provider"
    urn = resource.provider.rsplit("::", 1)[0]
    provider = next(r for r in plan.resources if r.urn == urn)
    return str(provider.inputs["region"])

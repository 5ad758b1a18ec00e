"""Every IAM permission the program grants names its actions: no ``*`` in an allowed action
(a wildcard in a Deny, such as the TLS-only bucket policy's ``s3:*``, only takes rights away)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .planning import plan_of, unwrap

POLICY_INPUTS = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
}


def _statements(document: Any) -> list[dict[str, Any]]:
    statements = json.loads(document)["Statement"] if isinstance(document, str) else []
    return statements if isinstance(statements, list) else [statements]


@pytest.mark.parametrize("env", ["staging", "production"])
def test_no_allowed_action_is_a_wildcard(env: str) -> None:
    plan = plan_of(env)
    checked = 0
    for typ, key in POLICY_INPUTS.items():
        for resource in plan.of_type(typ):
            for statement in _statements(unwrap(resource.inputs.get(key))):
                if statement["Effect"] != "Allow":
                    continue
                actions = statement["Action"]
                actions = [actions] if isinstance(actions, str) else actions
                assert not [a for a in actions if "*" in a], (resource.name, actions)
                checked += 1
    assert checked > 20

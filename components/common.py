"""Small helpers every component uses: resource options, tags and IAM policy documents.

What belongs here: pure functions with no resource of their own. Keep them tiny.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pulumi


def child_opts(
    parent: pulumi.Resource,
    provider: pulumi.ProviderResource | None = None,
    *,
    depends_on: Sequence[pulumi.Resource] = (),
    protect: bool = False,
) -> pulumi.ResourceOptions:
    """Options for a resource created inside a component (provider inherited unless given)."""
    return pulumi.ResourceOptions(
        parent=parent, provider=provider, depends_on=list(depends_on), protect=protect
    )


def named(tags: Mapping[str, str], name: str) -> dict[str, str]:
    """The environment's tags plus a ``Name`` tag."""
    return {**tags, "Name": name}


def assume_role_policy(*services: str) -> str:
    """An IAM trust policy that lets the given AWS services assume a role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": list(services)},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def allow_policy(actions: Sequence[str], resources: Sequence[str]) -> str:
    """A one-statement IAM policy allowing ``actions`` on ``resources``."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": list(actions), "Resource": list(resources)}
            ],
        }
    )

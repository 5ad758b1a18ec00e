"""Replication: S3 cross-region replication between every region's files bucket (active-active).

What belongs here: the Replication component, its Args and the pure rule builder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from .buckets import SecureBucket
from .common import assume_role_policy, child_opts

BucketReplicationRule = aws.s3.BucketReplicationConfigRuleArgsDict
"""The typed form of one replication rule."""


@dataclass(frozen=True)
class ReplicaTarget:
    """A destination bucket of one replication rule."""

    region: str
    """Destination region."""
    bucket_arn: str
    """Destination bucket ARN."""
    kms_key_arn: str
    """Key that encrypts replicas in the destination region."""


def replication_rules(targets: list[ReplicaTarget]) -> list[dict[str, Any]]:
    """One rule per destination: every object (KMS-encrypted ones too), deletes replicated."""
    return [
        {
            "id": f"to-{t.region}",
            "status": "Enabled",
            "priority": i + 1,
            "filter": {},
            "delete_marker_replication": {"status": "Enabled"},
            "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
            "destination": {
                "bucket": t.bucket_arn,
                "storage_class": "STANDARD",
                "encryption_configuration": {"replica_kms_key_id": t.kms_key_arn},
            },
        }
        for i, t in enumerate(targets)
    ]


@dataclass(frozen=True)
class RegionBucket:
    """One region's files bucket and its key."""

    region: str
    """The bucket's region."""
    bucket: SecureBucket
    """The bucket."""
    kms_key_arn: pulumi.Output[str]
    """The region's data key."""
    provider: pulumi.ProviderResource
    """The region's AWS provider."""


@dataclass(frozen=True)
class ReplicationArgs:
    """Inputs of :class:`Replication`."""

    buckets: list[RegionBucket]
    """Every region's files bucket; each replicates to all the others."""
    tags: dict[str, str]
    """Tags of the IAM role."""


class Replication(pulumi.ComponentResource):
    """Bidirectional S3 replication between all regions' files buckets."""

    def __init__(
        self, name: str, args: ReplicationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("librechat:replication:Replication", name, None, opts)
        for source in args.buckets:
            others = [b for b in args.buckets if b is not source]
            role = aws.iam.Role(
                f"{name}-{source.region}",
                assume_role_policy=assume_role_policy("s3.amazonaws.com"),
                tags=args.tags,
                opts=child_opts(self, source.provider),
            )
            arns = [source.bucket.arn, source.kms_key_arn]
            for b in others:
                arns += [b.bucket.arn, b.kms_key_arn]
            aws.iam.RolePolicy(
                f"{name}-{source.region}",
                role=role.id,
                policy=pulumi.Output.all(*arns).apply(_replication_policy),
                opts=child_opts(self, source.provider),
            )
            targets = pulumi.Output.all(
                *[pulumi.Output.all(b.bucket.arn, b.kms_key_arn) for b in others]
            )
            aws.s3.BucketReplicationConfig(
                f"{name}-{source.region}",
                bucket=source.bucket.id,
                role=role.arn,
                rules=targets.apply(partial(_rules, others)),
                opts=child_opts(self, source.provider, depends_on=[source.bucket.versioning]),
            )
        self.register_outputs({})


def _rules(others: list[RegionBucket], pairs: list[list[str]]) -> list[BucketReplicationRule]:
    targets = [ReplicaTarget(b.region, p[0], p[1]) for b, p in zip(others, pairs, strict=True)]
    return cast("list[BucketReplicationRule]", replication_rules(targets))


def _replication_policy(arns: list[str]) -> str:
    source, source_key, *rest = arns
    dests, keys = rest[0::2], rest[1::2]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                    "Resource": [source],
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "s3:GetObjectVersionForReplication",
                        "s3:GetObjectVersionAcl",
                        "s3:GetObjectVersionTagging",
                    ],
                    "Resource": [f"{source}/*"],
                },
                {
                    "Effect": "Allow",
                    "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                    "Resource": [f"{d}/*" for d in dests],
                },
                {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [source_key]},
                {"Effect": "Allow", "Action": ["kms:Encrypt"], "Resource": keys},
            ],
        }
    )

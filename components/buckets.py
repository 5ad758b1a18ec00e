"""SecureBucket: an S3 bucket that is private, KMS-encrypted, versioned and TLS-only.

What belongs here: the SecureBucket component, its Args and the pure policies: the TLS-only bucket
policy and the object access a bucket's user needs (:func:`object_access_policy`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .common import child_opts


def tls_only_policy(bucket_arn: str) -> str:
    """A bucket policy that denies every request not made over TLS 1.2 or newer."""
    resources = [bucket_arn, f"{bucket_arn}/*"]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": resources,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                {
                    "Sid": "DenyOldTls",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": resources,
                    "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
                },
            ],
        }
    )


def object_access_policy(bucket_arn: str, kms_key_arn: str) -> str:
    """What LibreChat's file strategy needs of its bucket, and nothing more: list it, read, write
    and delete its objects, with the bucket's KMS key."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket_arn]},
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    "Resource": [f"{bucket_arn}/*"],
                },
                {
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": [kms_key_arn],
                },
            ],
        }
    )


@dataclass(frozen=True)
class SecureBucketArgs:
    """Inputs of :class:`SecureBucket`."""

    kms_key_arn: pulumi.Output[str]
    """Customer-managed key for SSE-KMS."""
    tags: dict[str, str]
    """Tags of the bucket."""
    protect: bool = False
    """Pulumi refuses to delete the bucket (production's stores)."""


class SecureBucket(pulumi.ComponentResource):
    """A private bucket: public access blocked, owner-enforced, SSE-KMS, versioned, TLS only."""

    id: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("librechat:buckets:SecureBucket", name, None, opts)
        bucket = aws.s3.Bucket(
            name, force_destroy=False, tags=args.tags, opts=child_opts(self, protect=args.protect)
        )
        block = aws.s3.BucketPublicAccessBlock(
            name,
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child_opts(self),
        )
        aws.s3.BucketOwnershipControls(
            name,
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child_opts(self),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            name,
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": args.kms_key_arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=child_opts(self),
        )
        self.versioning = aws.s3.BucketVersioning(
            name,
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child_opts(self),
        )
        aws.s3.BucketPolicy(
            name,
            bucket=bucket.id,
            policy=bucket.arn.apply(tls_only_policy),
            opts=child_opts(self, depends_on=[block]),
        )
        self.id = bucket.id
        self.arn = bucket.arn
        self.register_outputs({"id": bucket.id, "arn": bucket.arn})

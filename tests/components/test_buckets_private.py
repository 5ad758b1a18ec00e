"""No bucket is public; every bucket demands TLS; production replicates files across regions."""

from __future__ import annotations

import json

import pytest

from components.buckets import tls_only_policy

from .planning import plan_of


@pytest.mark.parametrize("env", ["staging", "production"])
def test_no_bucket_is_public(env: str) -> None:
    plan = plan_of(env)
    buckets = plan.of_type("aws:s3/bucket:Bucket")
    blocks = {
        b.name: b.inputs
        for b in plan.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    }
    assert buckets
    assert set(blocks) == {b.name for b in buckets}
    for b in buckets:
        assert "acl" not in b.inputs
        assert "policy" not in b.inputs
        flags = (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
        assert all(blocks[b.name][f] is True for f in flags)
    owners = plan.of_type("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert all(o.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced" for o in owners)
    assert len(owners) == len(buckets)


@pytest.mark.parametrize("env", ["staging", "production"])
def test_every_bucket_policy_denies_plain_http_and_old_tls(env: str) -> None:
    plan = plan_of(env)
    policies = plan.of_type("aws:s3/bucketPolicy:BucketPolicy")
    assert len(policies) == len(plan.of_type("aws:s3/bucket:Bucket"))
    for p in policies:
        doc = json.loads(p.inputs["policy"])
        assert all(s["Effect"] == "Deny" for s in doc["Statement"])
        conditions = [s["Condition"] for s in doc["Statement"]]
        assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
        assert {"NumericLessThan": {"s3:TlsVersion": "1.2"}} in conditions


def test_tls_only_policy_covers_bucket_and_objects() -> None:
    doc = json.loads(tls_only_policy("arn:aws:s3:::b"))
    assert all(s["Resource"] == ["arn:aws:s3:::b", "arn:aws:s3:::b/*"] for s in doc["Statement"])


def test_production_files_replicate_to_every_other_region() -> None:
    plan = plan_of("production")
    configs = plan.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert len(configs) == 3
    for c in configs:
        rules = c.inputs["rules"]
        assert len(rules) == 2
        for rule in rules:
            assert rule["status"] == "Enabled"
            assert rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"]
            assert rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"] == "Enabled"
    assert not plan_of("staging").of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")

"""Managed data stores: encrypted at rest and in transit, backed up, protected in production."""

from __future__ import annotations

import pytest

from components.datastores import OPENSEARCH_TLS_POLICY

from .planning import plan_of

CLOUD = ("staging", "production")


@pytest.mark.parametrize("env", CLOUD)
def test_databases_encrypt_storage_with_a_customer_key(env: str) -> None:
    plan = plan_of(env)
    for typ in ("aws:docdb/cluster:Cluster", "aws:rds/cluster:Cluster"):
        clusters = plan.of_type(typ)
        assert clusters
        for c in clusters:
            assert c.inputs["storageEncrypted"] is True, c.name
            assert c.inputs["kmsKeyId"], c.name
    for typ in ("aws:docdb/globalCluster:GlobalCluster", "aws:rds/globalCluster:GlobalCluster"):
        assert all(g.inputs["storageEncrypted"] is True for g in plan.of_type(typ))


@pytest.mark.parametrize("env", CLOUD)
def test_databases_require_tls(env: str) -> None:
    plan = plan_of(env)
    docdb = plan.of_type("aws:docdb/clusterParameterGroup:ClusterParameterGroup")
    aurora = plan.of_type("aws:rds/clusterParameterGroup:ClusterParameterGroup")
    assert docdb
    assert aurora
    assert all({"name": "tls", "value": "enabled"} in p.inputs["parameters"] for p in docdb)
    assert all({"name": "rds.force_ssl", "value": "1"} in p.inputs["parameters"] for p in aurora)
    for typ, groups in (("aws:docdb/cluster:Cluster", docdb), ("aws:rds/cluster:Cluster", aurora)):
        names = {g.name for g in groups}
        assert all(c.inputs["dbClusterParameterGroupName"] in names for c in plan.of_type(typ))


@pytest.mark.parametrize("env", CLOUD)
def test_redis_opensearch_and_msk_are_encrypted(env: str) -> None:
    plan = plan_of(env)
    for redis in plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup"):
        assert redis.inputs["atRestEncryptionEnabled"] is True
        assert redis.inputs["transitEncryptionEnabled"] is True
        assert redis.inputs["kmsKeyId"]
    for domain in plan.of_type("aws:opensearch/domain:Domain"):
        assert domain.inputs["encryptAtRest"]["enabled"] is True
        assert domain.inputs["encryptAtRest"]["kmsKeyId"]
        assert domain.inputs["nodeToNodeEncryption"]["enabled"] is True
        endpoint = domain.inputs["domainEndpointOptions"]
        assert endpoint == {"enforceHttps": True, "tlsSecurityPolicy": OPENSEARCH_TLS_POLICY}
    for msk in plan.of_type("aws:msk/cluster:Cluster"):
        info = msk.inputs["encryptionInfo"]
        assert info["encryptionAtRestKmsKeyArn"]
        assert info["encryptionInTransit"] == {"clientBroker": "TLS", "inCluster": True}
        assert msk.inputs["clientAuthentication"]["unauthenticated"] is False
    # No Managed Flink application: no job of ours exists to run (README, analytics-engine).
    assert not plan.of_type("aws:kinesisanalyticsv2/application:Application")


@pytest.mark.parametrize("env", CLOUD)
def test_every_bucket_is_kms_encrypted_and_versioned(env: str) -> None:
    plan = plan_of(env)
    buckets = {b.name for b in plan.of_type("aws:s3/bucket:Bucket")}
    sse = plan.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    assert {s.name for s in sse} == buckets
    for s in sse:
        default = s.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        assert default["sseAlgorithm"] == "aws:kms"
        assert default["kmsMasterKeyId"]
    versioning = plan.of_type("aws:s3/bucketVersioning:BucketVersioning")
    assert {v.name for v in versioning} == buckets
    assert all(v.inputs["versioningConfiguration"]["status"] == "Enabled" for v in versioning)


def test_deletion_protection_and_final_snapshots_in_production_only() -> None:
    for env, protected in (("production", True), ("staging", False)):
        plan = plan_of(env)
        for typ in (
            "aws:docdb/cluster:Cluster",
            "aws:rds/cluster:Cluster",
            "aws:docdb/globalCluster:GlobalCluster",
            "aws:rds/globalCluster:GlobalCluster",
        ):
            for c in plan.of_type(typ):
                assert c.inputs.get("deletionProtection", False) is protected, (env, c.name)
                if "skipFinalSnapshot" in c.inputs:
                    assert c.inputs["skipFinalSnapshot"] is (not protected)
                    assert ("finalSnapshotIdentifier" in c.inputs) is protected


@pytest.mark.parametrize("env", CLOUD)
def test_backups_are_kept(env: str) -> None:
    plan = plan_of(env)
    minimum = 35 if env == "production" else 7
    for typ in ("aws:docdb/cluster:Cluster", "aws:rds/cluster:Cluster"):
        assert all(c.inputs["backupRetentionPeriod"] >= minimum for c in plan.of_type(typ))
    redis = plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup")
    assert all(r.inputs["snapshotRetentionLimit"] >= minimum for r in redis)


def test_secondary_regions_join_the_global_clusters_without_their_own_master_user() -> None:
    plan = plan_of("production")
    for typ in ("aws:docdb/cluster:Cluster", "aws:rds/cluster:Cluster"):
        clusters = plan.of_type(typ)
        assert len(clusters) == 3
        assert all(c.inputs["globalClusterIdentifier"] for c in clusters)
        assert sum("masterPassword" in c.inputs for c in clusters) == 1


def test_aurora_runs_a_postgresql_version_that_ships_pgvector() -> None:
    for cluster in plan_of("production").of_type("aws:rds/cluster:Cluster"):
        assert cluster.inputs["engine"] == "aurora-postgresql"
        major, minor = (int(p) for p in cluster.inputs["engineVersion"].split(".")[:2])
        assert (major, minor) >= (15, 2)


STATEFUL = (
    "aws:docdb/cluster:Cluster",
    "aws:docdb/globalCluster:GlobalCluster",
    "aws:rds/cluster:Cluster",
    "aws:rds/globalCluster:GlobalCluster",
    "aws:opensearch/domain:Domain",
    "aws:msk/cluster:Cluster",
    "aws:backup/vault:Vault",
)
"""Resources whose deletion loses data."""


@pytest.mark.parametrize(("env", "protected"), [("production", True), ("staging", False)])
def test_production_refuses_to_delete_what_holds_data(env: str, protected: bool) -> None:
    plan = plan_of(env)
    for typ in STATEFUL:
        found = plan.of_type(typ)
        assert found, typ
        assert all(r.protect is protected for r in found), typ
    stores = [
        g
        for g in plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup")
        if "ratelimit" not in g.name
    ]
    assert all(g.protect is protected for g in stores)
    keys = [k for k in plan.of_type("aws:kms/key:Key") if k.name.endswith("-data-data")]
    assert keys
    assert all(k.protect is protected for k in keys)
    files = [b for b in plan.of_type("aws:s3/bucket:Bucket") if "-files" in b.name]
    assert files
    assert all(b.protect is protected for b in files)


@pytest.mark.parametrize("env", CLOUD)
def test_aws_backup_keeps_every_regions_stores(env: str) -> None:
    plan = plan_of(env)
    regions = plan.of_type("librechat:environment:Region")
    selections = plan.of_type("aws:backup/selection:Selection")
    assert len(selections) == len(regions)
    docdb = {f"arn:aws:mock:::{c.name}" for c in plan.of_type("aws:docdb/cluster:Cluster")}
    aurora = {f"arn:aws:mock:::{c.name}" for c in plan.of_type("aws:rds/cluster:Cluster")}
    for selection in selections:
        covered = set(selection.inputs["resources"])
        assert len(covered & docdb) == len(covered & aurora) == 1
        assert any(":::" in r and "-files" in r for r in covered)
    for plan_resource in plan.of_type("aws:backup/plan:Plan"):
        (rule,) = plan_resource.inputs["rules"]
        assert rule["lifecycle"]["deleteAfter"] >= 7
    for vault in plan.of_type("aws:backup/vault:Vault"):
        assert vault.inputs["kmsKeyArn"]

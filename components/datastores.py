"""DataStores: the managed data layer of one region, encrypted at rest and in transit.

What belongs here: the regional DataStores component and its Args — DocumentDB (a member of the
global cluster), ElastiCache Redis, Aurora PostgreSQL (a member of the Global Database; pgvector),
OpenSearch and the files bucket. The event layer (MSK, Glue Schema Registry) is its child
:class:`components.streaming.EventStreams`; the global clusters are in
:mod:`components.global_data` and cross-region replication in :mod:`components.replication`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from k8s_operator.inventory import MONGO_CA_FILE

from .buckets import SecureBucket, SecureBucketArgs
from .common import assume_role_policy, child_opts, named
from .spec import DataStoreSizes
from .streaming import EventStreams, EventStreamsArgs

DOCDB_ENGINE_VERSION = "5.0.0"
"""DocumentDB 5.0: the MongoDB API level LibreChat needs."""

AURORA_ENGINE_VERSION = "16.6"
"""Aurora PostgreSQL 16: ships the pgvector extension (``CREATE EXTENSION vector``)."""

OPENSEARCH_TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"
"""OpenSearch endpoints accept TLS 1.2+ only."""

AURORA_MASTER_USER = "librechat"
"""Aurora's master user (the primary region creates it; migrations use it, services do not)."""

RATELIMIT_NODE_TYPE = "cache.t4g.medium"
"""Kong's rate-limit Redis: a primary and a replica of this size per region."""

BACKUP_POLICIES = (
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
)
"""AWS's managed policies for AWS Backup's role (databases, and S3)."""

PORTS = {"docdb": 27017, "redis": 6379, "aurora": 5432, "opensearch": 443, "msk": 9098}
"""Ports opened to the VPC (and nothing else) by the data security group."""


def _data_ingress(
    clients: pulumi.Output[str], peer_cidrs: tuple[str, ...]
) -> list[aws.ec2.SecurityGroupIngressArgsDict]:
    """The stores' ports from the cluster's nodes (their security group: every pod, nothing else
    in the VPC); the writers' from the other regions' VPCs (over the peering: a cross-region
    peering cannot name a security group, so their CIDRs)."""
    rules: list[aws.ec2.SecurityGroupIngressArgsDict] = [
        {"protocol": "tcp", "from_port": p, "to_port": p, "security_groups": [clients]}
        for p in PORTS.values()
    ]
    if peer_cidrs:
        rules += [
            {
                "protocol": "tcp",
                "from_port": PORTS[store],
                "to_port": PORTS[store],
                "cidr_blocks": list(peer_cidrs),
                "description": f"{store} writes from the other regions",
            }
            for store in ("docdb", "aurora")
        ]
    return rules


@dataclass(frozen=True)
class DataStoresArgs:
    """Inputs of :class:`DataStores`."""

    prefix: str
    """Short name prefix, e.g. ``lc-prod-use1`` (AWS names have length limits)."""
    primary: bool
    """True in the primary region: it holds the global clusters' writers and master users."""
    vpc_id: pulumi.Output[str]
    """The region's VPC."""
    client_security_group: pulumi.Output[str]
    """The security group of the cluster's nodes (EKS's cluster security group): the stores'
    only clients in the region."""
    subnet_ids: list[pulumi.Output[str]]
    """Private subnets, one per zone."""
    sizes: DataStoreSizes
    """Instance classes and counts."""
    deletion_protection: bool
    """Deletion protection and final snapshots (production)."""
    docdb_global_id: pulumi.Output[str]
    """The DocumentDB global cluster this region joins."""
    aurora_global_id: pulumi.Output[str]
    """The Aurora Global Database this region joins."""
    secrets: dict[str, pulumi.Output[str]]
    """Data-store credentials (secret Outputs) by config key."""
    tags: dict[str, str]
    """Tags for every resource."""
    peer_cidrs: tuple[str, ...] = ()
    """The other regions' VPC CIDRs, which reach this region's writers when it is the writer."""
    writer: bool = True
    """True where the global clusters write now (``CloudSpec.writer``): elsewhere Aurora forwards
    writes there."""


class DataStores(pulumi.ComponentResource):
    """Every managed data store of one region, with one customer-managed KMS key."""

    kms_key_arn: pulumi.Output[str]
    files_bucket: SecureBucket
    mongo_uri: pulumi.Output[str]
    redis_uri: pulumi.Output[str]
    ratelimit_redis_host: pulumi.Output[str]
    aurora_endpoint: pulumi.Output[str]
    """Where this region writes to Aurora: the writer region's cluster endpoint there, elsewhere
    the region's reader endpoint (Aurora's global write forwarding sends the writes on)."""
    aurora_writer: pulumi.Output[str]
    """This region's cluster endpoint (the writer region's is the global writer)."""

    def __init__(
        self, name: str, args: DataStoresArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("librechat:datastores:DataStores", name, None, opts)
        self._args = args
        tags = args.tags
        self.key = aws.kms.Key(
            f"{name}-data",
            description=f"Encryption at rest of the {args.prefix} data stores",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=tags,
            opts=child_opts(self, protect=self._args.deletion_protection),
        )
        self.kms_key_arn = self.key.arn
        self.sg = aws.ec2.SecurityGroup(
            f"{name}-data",
            description="Data stores: reachable from the VPC only",
            vpc_id=args.vpc_id,
            ingress=_data_ingress(args.client_security_group, args.peer_cidrs),
            egress=[],
            tags=named(tags, f"{args.prefix}-data"),
            opts=child_opts(self),
        )
        self.mongo_uri = self._documentdb(name)
        self.redis_uri = self._redis(name)
        self.ratelimit_redis_host = self._ratelimit_redis(name)
        self.aurora_writer, self.aurora_endpoint = self._aurora(name)
        self._opensearch(name)
        self.files_bucket = SecureBucket(
            f"{name}-files",
            SecureBucketArgs(kms_key_arn=self.key.arn, tags=tags, protect=args.deletion_protection),
            opts=child_opts(self),
        )
        self._backup(name)
        EventStreams(
            f"{name}-events",
            EventStreamsArgs(
                prefix=args.prefix,
                subnet_ids=args.subnet_ids,
                security_group_id=self.sg.id,
                kms_key_arn=self.key.arn,
                sizes=args.sizes,
                tags=tags,
                protect=args.deletion_protection,
            ),
            opts=child_opts(self),
        )
        self.register_outputs({"kms_key_arn": self.key.arn})

    def _backup(self, name: str) -> None:
        """AWS Backup of the region's stores: DocumentDB, Aurora and the files bucket, daily into
        a vault under the region's key, kept as long as the stores' own backups."""
        a = self._args
        vault = aws.backup.Vault(
            f"{name}-backup",
            name=f"{a.prefix}-stores",
            kms_key_arn=self.key.arn,
            tags=a.tags,
            opts=child_opts(self, protect=a.deletion_protection),
        )
        plan = aws.backup.Plan(
            f"{name}-backup",
            name=f"{a.prefix}-stores-daily",
            rules=[
                {
                    "rule_name": "daily",
                    "target_vault_name": vault.name,
                    "schedule": "cron(0 5 * * ? *)",
                    "start_window": 60,
                    "completion_window": 360,
                    "lifecycle": {"delete_after": a.sizes.backup_retention_days},
                }
            ],
            tags=a.tags,
            opts=child_opts(self),
        )
        role = aws.iam.Role(
            f"{name}-backup",
            assume_role_policy=assume_role_policy("backup.amazonaws.com"),
            tags=a.tags,
            opts=child_opts(self),
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-backup-{policy.rsplit('/', 1)[1]}",
                role=role.name,
                policy_arn=policy,
                opts=child_opts(self),
            )
            for policy in BACKUP_POLICIES
        ]
        aws.backup.Selection(
            f"{name}-backup",
            name=f"{a.prefix}-stores",
            plan_id=plan.id,
            iam_role_arn=role.arn,
            resources=[self._docdb.arn, self._aurora_cluster.arn, self.files_bucket.arn],
            opts=child_opts(self, depends_on=attachments),
        )

    def _documentdb(self, name: str) -> pulumi.Output[str]:
        a = self._args
        ident = f"{a.prefix}-docdb"
        subnets = aws.docdb.SubnetGroup(
            f"{name}-docdb", subnet_ids=a.subnet_ids, tags=a.tags, opts=child_opts(self)
        )
        params = aws.docdb.ClusterParameterGroup(
            f"{name}-docdb",
            family="docdb5.0",
            parameters=[
                {"name": "tls", "value": "enabled"},
                {"name": "audit_logs", "value": "enabled"},
            ],
            tags=a.tags,
            opts=child_opts(self),
        )
        protect = a.deletion_protection
        cluster = self._docdb = aws.docdb.Cluster(
            f"{name}-docdb",
            cluster_identifier=ident,
            engine="docdb",
            engine_version=DOCDB_ENGINE_VERSION,
            global_cluster_identifier=a.docdb_global_id,
            master_username="librechat" if a.primary else None,
            master_password=a.secrets["docdbMasterPassword"] if a.primary else None,
            storage_encrypted=True,
            kms_key_id=self.key.arn,
            backup_retention_period=a.sizes.backup_retention_days,
            db_subnet_group_name=subnets.name,
            db_cluster_parameter_group_name=params.name,
            vpc_security_group_ids=[self.sg.id],
            enabled_cloudwatch_logs_exports=["audit", "profiler"],
            deletion_protection=protect,
            skip_final_snapshot=not protect,
            final_snapshot_identifier=f"{ident}-final" if protect else None,
            tags=a.tags,
            opts=child_opts(self, protect=self._args.deletion_protection),
        )
        for i in range(a.sizes.docdb_instances):
            aws.docdb.ClusterInstance(
                f"{name}-docdb-{i}",
                cluster_identifier=cluster.id,
                instance_class=a.sizes.docdb_instance_class,
                tags=a.tags,
                opts=child_opts(self),
            )
        password = a.secrets["docdbMasterPassword"]
        return pulumi.Output.all(cluster.endpoint, password).apply(
            lambda v: (
                f"mongodb://librechat:{v[1]}@{v[0]}:27017/LibreChat"
                f"?tls=true&tlsCAFile={MONGO_CA_FILE}"
                "&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false"
            )
        )

    def _redis(self, name: str) -> pulumi.Output[str]:
        a = self._args
        subnets = self._redis_subnets = aws.elasticache.SubnetGroup(
            f"{name}-redis",
            name=f"{a.prefix}-redis",
            description="LibreChat Redis",
            subnet_ids=a.subnet_ids,
            tags=a.tags,
            opts=child_opts(self),
        )
        group = aws.elasticache.ReplicationGroup(
            f"{name}-redis",
            replication_group_id=f"{a.prefix}-redis",
            description="LibreChat cache, sessions and resumable streams (this region only)",
            engine="redis",
            engine_version="7.1",
            node_type=a.sizes.redis_node_type,
            cluster_mode="enabled",
            num_node_groups=a.sizes.redis_shards,
            replicas_per_node_group=a.sizes.redis_replicas,
            parameter_group_name="default.redis7.cluster.on",
            **self._redis_hardening(),
            subnet_group_name=subnets.name,
            security_group_ids=[self.sg.id],
            tags=a.tags,
            opts=child_opts(self, protect=self._args.deletion_protection),
        )
        return pulumi.Output.all(
            group.configuration_endpoint_address, a.secrets["redisAuthToken"]
        ).apply(lambda v: f"rediss://:{v[1]}@{v[0]}:6379")

    def _redis_hardening(self) -> dict[str, Any]:
        """What every Redis of the region shares: failover across zones, encryption at rest
        (the region's key) and in transit, the auth token, snapshots kept as long as backups."""
        a = self._args
        return {
            "automatic_failover_enabled": True,
            "multi_az_enabled": True,
            "at_rest_encryption_enabled": True,
            "kms_key_id": self.key.arn,
            "transit_encryption_enabled": True,
            "auth_token": a.secrets["redisAuthToken"],
            "snapshot_retention_limit": a.sizes.backup_retention_days,
        }

    def _ratelimit_redis(self, name: str) -> pulumi.Output[str]:
        """Kong's rate-limit counters: a small Redis without cluster mode (Kong's rate-limiting
        plugin speaks to one Redis node, not a cluster), TLS and the same auth token."""
        a = self._args
        group = aws.elasticache.ReplicationGroup(
            f"{name}-ratelimit",
            replication_group_id=f"{a.prefix}-ratelimit",
            description="Kong's rate-limit counters (this region only)",
            engine="redis",
            engine_version="7.1",
            node_type=RATELIMIT_NODE_TYPE,
            num_cache_clusters=2,
            **self._redis_hardening(),
            subnet_group_name=f"{a.prefix}-redis",
            security_group_ids=[self.sg.id],
            tags=a.tags,
            opts=child_opts(self, depends_on=[self._redis_subnets]),
        )
        return group.primary_endpoint_address

    def _aurora(self, name: str) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        a = self._args
        ident = f"{a.prefix}-aurora"
        subnets = aws.rds.SubnetGroup(
            f"{name}-aurora", subnet_ids=a.subnet_ids, tags=a.tags, opts=child_opts(self)
        )
        params = aws.rds.ClusterParameterGroup(
            f"{name}-aurora",
            family="aurora-postgresql16",
            parameters=[
                {"name": "rds.force_ssl", "value": "1"},
                # Forwarded writes are visible to the session that made them (read your writes).
                {"name": "apg_write_forward.consistency_mode", "value": "SESSION"},
            ],
            tags=a.tags,
            opts=child_opts(self),
        )
        protect = a.deletion_protection
        cluster = self._aurora_cluster = aws.rds.Cluster(
            f"{name}-aurora",
            cluster_identifier=ident,
            engine="aurora-postgresql",
            engine_version=AURORA_ENGINE_VERSION,
            global_cluster_identifier=a.aurora_global_id,
            # A secondary's writes go on to the writer (its reader endpoint takes them).
            enable_global_write_forwarding=None if a.writer else True,
            database_name="rag" if a.primary else None,
            master_username=AURORA_MASTER_USER if a.primary else None,
            master_password=a.secrets["auroraMasterPassword"] if a.primary else None,
            storage_encrypted=True,
            kms_key_id=self.key.arn,
            iam_database_authentication_enabled=True,
            backup_retention_period=a.sizes.backup_retention_days,
            copy_tags_to_snapshot=True,
            db_subnet_group_name=subnets.name,
            db_cluster_parameter_group_name=params.name,
            vpc_security_group_ids=[self.sg.id],
            enabled_cloudwatch_logs_exports=["postgresql"],
            deletion_protection=protect,
            skip_final_snapshot=not protect,
            final_snapshot_identifier=f"{ident}-final" if protect else None,
            tags=a.tags,
            opts=child_opts(self, protect=self._args.deletion_protection),
        )
        for i in range(a.sizes.aurora_instances):
            aws.rds.ClusterInstance(
                f"{name}-aurora-{i}",
                cluster_identifier=cluster.id,
                engine=aws.rds.EngineType.AURORA_POSTGRESQL,
                engine_version=AURORA_ENGINE_VERSION,
                instance_class=a.sizes.aurora_instance_class,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=self.key.arn,
                tags=a.tags,
                opts=child_opts(self),
            )
        return cluster.endpoint, cluster.endpoint if a.writer else cluster.reader_endpoint

    def _opensearch(self, name: str) -> None:
        a = self._args
        aws.opensearch.Domain(
            f"{name}-search",
            domain_name=f"{a.prefix}-search",
            engine_version="OpenSearch_2.17",
            cluster_config={
                "instance_type": a.sizes.opensearch_instance_type,
                "instance_count": a.sizes.opensearch_instances,
                "zone_awareness_enabled": True,
                "zone_awareness_config": {"availability_zone_count": 3},
                "dedicated_master_enabled": True,
                "dedicated_master_type": "m6g.large.search",
                "dedicated_master_count": 3,
            },
            ebs_options={
                "ebs_enabled": True,
                "volume_type": "gp3",
                "volume_size": a.sizes.opensearch_volume_gib,
            },
            encrypt_at_rest={"enabled": True, "kms_key_id": self.key.arn},
            node_to_node_encryption={"enabled": True},
            domain_endpoint_options={
                "enforce_https": True,
                "tls_security_policy": OPENSEARCH_TLS_POLICY,
            },
            vpc_options={"subnet_ids": a.subnet_ids, "security_group_ids": [self.sg.id]},
            tags=a.tags,
            opts=child_opts(self, protect=self._args.deletion_protection),
        )

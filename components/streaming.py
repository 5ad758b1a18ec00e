"""EventStreams: the seed's event layer in one region — MSK, Managed Flink, Glue Schema Registry.

What belongs here: the EventStreams component (a child of DataStores) and its Args. Kafka is
reached over TLS with IAM auth; the Flink application and its code bucket use the region's key.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .buckets import SecureBucket, SecureBucketArgs
from .common import allow_policy, assume_role_policy, child_opts
from .spec import DataStoreSizes

KAFKA_VERSION = "3.6.0"
"""MSK Kafka version."""

FLINK_RUNTIME = "FLINK-1_20"
"""Managed Service for Apache Flink runtime."""


@dataclass(frozen=True)
class EventStreamsArgs:
    """Inputs of :class:`EventStreams`."""

    prefix: str
    """Short name prefix, e.g. ``lc-prod-use1``."""
    subnet_ids: list[pulumi.Output[str]]
    """Private subnets, one per zone (brokers spread over them)."""
    security_group_id: pulumi.Output[str]
    """The data security group (VPC-only access)."""
    kms_key_arn: pulumi.Output[str]
    """The region's data key."""
    sizes: DataStoreSizes
    """Broker type, count and volume; Flink parallelism."""
    flink_code_key: str
    """S3 key of the Flink application jar in the artifacts bucket."""
    tags: dict[str, str]
    """Tags for every resource."""


class EventStreams(pulumi.ComponentResource):
    """Kafka (MSK), the analytics Flink application and the schema registry of one region."""

    def __init__(
        self, name: str, args: EventStreamsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("librechat:streaming:EventStreams", name, None, opts)
        artifacts = SecureBucket(
            f"{name}-artifacts",
            SecureBucketArgs(kms_key_arn=args.kms_key_arn, tags=args.tags),
            opts=child_opts(self),
        )
        msk = self._msk(name, args)
        self._flink(name, args, artifacts, msk)
        aws.glue.Registry(
            f"{name}-schemas",
            registry_name=f"{args.prefix}-schemas",
            description="Avro schemas of the LibreChat event streams",
            tags=args.tags,
            opts=child_opts(self),
        )
        self.register_outputs({})

    def _msk(self, name: str, a: EventStreamsArgs) -> aws.msk.Cluster:
        logs = aws.cloudwatch.LogGroup(
            f"{name}-msk", retention_in_days=30, tags=a.tags, opts=child_opts(self)
        )
        return aws.msk.Cluster(
            f"{name}-msk",
            cluster_name=f"{a.prefix}-events",
            kafka_version=KAFKA_VERSION,
            number_of_broker_nodes=a.sizes.msk_brokers,
            broker_node_group_info={
                "instance_type": a.sizes.msk_instance_type,
                "client_subnets": a.subnet_ids,
                "security_groups": [a.security_group_id],
                "storage_info": {"ebs_storage_info": {"volume_size": a.sizes.msk_volume_gib}},
            },
            encryption_info={
                "encryption_at_rest_kms_key_arn": a.kms_key_arn,
                "encryption_in_transit": {"client_broker": "TLS", "in_cluster": True},
            },
            client_authentication={"sasl": {"iam": True}, "unauthenticated": False},
            logging_info={
                "broker_logs": {"cloudwatch_logs": {"enabled": True, "log_group": logs.name}}
            },
            tags=a.tags,
            opts=child_opts(self),
        )

    def _flink(
        self, name: str, a: EventStreamsArgs, artifacts: SecureBucket, msk: aws.msk.Cluster
    ) -> None:
        role = aws.iam.Role(
            f"{name}-flink",
            assume_role_policy=assume_role_policy("kinesisanalytics.amazonaws.com"),
            tags=a.tags,
            opts=child_opts(self),
        )
        aws.iam.RolePolicy(
            f"{name}-flink",
            role=role.id,
            policy=pulumi.Output.all(artifacts.arn, a.kms_key_arn, msk.arn).apply(
                lambda v: allow_policy(
                    [
                        "s3:GetObject",
                        "s3:GetObjectVersion",
                        "kms:Decrypt",
                        "kms:GenerateDataKey",
                        "kafka-cluster:Connect",
                        "kafka-cluster:*Topic*",
                        "kafka-cluster:*Group*",
                        "kafka-cluster:ReadData",
                        "kafka-cluster:WriteData",
                    ],
                    [f"{v[0]}/*", v[1], v[2], f"{v[2]}/*"],
                )
            ),
            opts=child_opts(self),
        )
        aws.kinesisanalyticsv2.Application(
            f"{name}-analytics",
            name=f"{a.prefix}-analytics",
            runtime_environment=FLINK_RUNTIME,
            service_execution_role=role.arn,
            start_application=False,
            application_configuration={
                "application_code_configuration": {
                    "code_content_type": "ZIPFILE",
                    "code_content": {
                        "s3_content_location": {
                            "bucket_arn": artifacts.arn,
                            "file_key": a.flink_code_key,
                        }
                    },
                },
                "application_encryption_configuration": {
                    "key_type": "CUSTOMER_MANAGED_KEY",
                    "key_id": a.kms_key_arn,
                },
                "application_snapshot_configuration": {"snapshots_enabled": True},
                "flink_application_configuration": {
                    "checkpoint_configuration": {"configuration_type": "DEFAULT"},
                    "parallelism_configuration": {
                        "configuration_type": "CUSTOM",
                        "parallelism": a.sizes.flink_parallelism,
                        "parallelism_per_kpu": 1,
                        "auto_scaling_enabled": True,
                    },
                },
                "environment_properties": {
                    "property_groups": [
                        {
                            "property_group_id": "kafka",
                            "property_map": {
                                "bootstrap.servers": msk.bootstrap_brokers_sasl_iam,
                                "schema.registry": f"{a.prefix}-schemas",
                            },
                        }
                    ]
                },
                "vpc_configuration": {
                    "subnet_ids": a.subnet_ids,
                    "security_group_ids": [a.security_group_id],
                },
            },
            tags=a.tags,
            opts=child_opts(self),
        )

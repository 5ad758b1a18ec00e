"""EventStreams: the seed's event layer in one region — MSK and the Glue Schema Registry.

What belongs here: the EventStreams component (a child of DataStores) and its Args. Kafka is
reached over TLS with IAM auth. The seed's analytics engine (Managed Flink) is not deployed: no
job of ours exists to run on it (README, "Services and images"); an empty application with a jar
nobody builds would cost money and prove nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .common import child_opts
from .spec import DataStoreSizes

KAFKA_VERSION = "3.6.0"
"""MSK Kafka version."""


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
    """Broker type, count and volume."""
    tags: dict[str, str]
    """Tags for every resource."""
    protect: bool = False
    """Pulumi refuses to delete the cluster (production)."""


class EventStreams(pulumi.ComponentResource):
    """Kafka (MSK) and the schema registry of one region."""

    def __init__(
        self, name: str, args: EventStreamsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("librechat:streaming:EventStreams", name, None, opts)
        self._msk(name, args)
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
            opts=child_opts(self, protect=a.protect),
        )

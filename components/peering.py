"""Peering: a secondary region's VPC joined to the primary's, so that what must write in the
primary region (DocumentDB's writer, Keycloak's database) can be reached from every region.

What belongs here: the RegionPeering component and its Args. The secondary requests, the primary
accepts (each through its own region's provider); each private route table of either side gets a
route to the other's CIDR. The primary's data security group admits the secondaries' CIDRs on the
writers' ports (:class:`components.datastores.DataStores`, ``peer_cidrs``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .common import child_opts, named


@dataclass(frozen=True)
class RegionPeeringArgs:
    """Inputs of :class:`RegionPeering`."""

    prefix: str
    """Name prefix of the secondary region, e.g. ``lc-prod-euw1``."""
    primary_region: str
    primary_vpc_id: pulumi.Output[str]
    primary_cidr: str
    primary_route_tables: list[pulumi.Output[str]]
    secondary_vpc_id: pulumi.Output[str]
    secondary_cidr: str
    secondary_route_tables: list[pulumi.Output[str]]
    primary_provider: pulumi.ProviderResource
    """The primary region's AWS provider (it accepts, and its routes are made there)."""
    tags: dict[str, str]


class RegionPeering(pulumi.ComponentResource):
    """A VPC peering from a secondary region to the primary, accepted, and routed both ways."""

    peering_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: RegionPeeringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("librechat:peering:RegionPeering", name, None, opts)
        peering = aws.ec2.VpcPeeringConnection(
            f"{name}-request",
            vpc_id=args.secondary_vpc_id,
            peer_vpc_id=args.primary_vpc_id,
            peer_region=args.primary_region,
            tags=named(args.tags, f"{args.prefix}-to-primary"),
            opts=child_opts(self),
        )
        in_primary = pulumi.ResourceOptions(parent=self, provider=args.primary_provider)
        accepted = aws.ec2.VpcPeeringConnectionAccepter(
            f"{name}-accept",
            vpc_peering_connection_id=peering.id,
            auto_accept=True,
            tags=named(args.tags, f"{args.prefix}-to-primary"),
            opts=in_primary,
        )
        for i, table in enumerate(args.secondary_route_tables):
            aws.ec2.Route(
                f"{name}-to-primary-{i}",
                route_table_id=table,
                destination_cidr_block=args.primary_cidr,
                vpc_peering_connection_id=peering.id,
                opts=child_opts(self, depends_on=[accepted]),
            )
        for i, table in enumerate(args.primary_route_tables):
            aws.ec2.Route(
                f"{name}-from-primary-{i}",
                route_table_id=table,
                destination_cidr_block=args.secondary_cidr,
                vpc_peering_connection_id=peering.id,
                opts=pulumi.ResourceOptions(
                    parent=self, provider=args.primary_provider, depends_on=[accepted]
                ),
            )
        self.peering_id = peering.id
        self.register_outputs({"peering_id": peering.id})

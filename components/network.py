"""Network: one VPC over three zones with public and private subnets, NAT and flow logs.

What belongs here: the Network component, its Args, and the pure subnet layout.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .common import allow_policy, assume_role_policy, child_opts, named


@dataclass(frozen=True)
class SubnetPlan:
    """The two subnets of one availability zone."""

    zone: str
    """Availability zone, e.g. ``eu-west-1a``."""
    public_cidr: str
    """Load balancers and NAT gateways."""
    private_cidr: str
    """Nodes, pods and data stores."""


def subnet_layout(vpc_cidr: str, zones: list[str]) -> list[SubnetPlan]:
    """Split a /16 into three large private /18s and three small public /22s, one pair per zone."""
    network = ipaddress.IPv4Network(vpc_cidr)
    if network.prefixlen != 16:
        raise ValueError(f"VPC CIDR must be a /16, got {vpc_cidr}")
    quarters = list(network.subnets(new_prefix=18))
    public = list(quarters[3].subnets(new_prefix=22))
    return [SubnetPlan(zone, str(public[i]), str(quarters[i])) for i, zone in enumerate(zones[:3])]


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of :class:`Network`."""

    region: str
    """AWS region (used in names)."""
    cidr: str
    """VPC CIDR, a /16."""
    zones: list[str]
    """Three availability zones."""
    nat_per_az: bool
    """One NAT gateway per zone (production) or one shared gateway."""
    flow_log_retention_days: int
    """How long VPC flow logs are kept."""
    tags: dict[str, str]
    """Tags for every resource."""


class Network(pulumi.ComponentResource):
    """A VPC with public/private subnets in three zones, NAT egress and VPC flow logs."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    private_route_table_ids: list[pulumi.Output[str]]
    """One per zone: where routes to the other regions' VPCs go (:mod:`components.peering`)."""

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("librechat:network:Network", name, None, opts)
        tags = args.tags
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=named(tags, f"{name}-vpc"),
            opts=child_opts(self),
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=named(tags, f"{name}-igw"), opts=child_opts(self)
        )
        public_rt = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
            tags=named(tags, f"{name}-public"),
            opts=child_opts(self),
        )
        layout = subnet_layout(args.cidr, args.zones)
        self.public_subnet_ids, self.private_subnet_ids = [], []
        self.private_route_table_ids = []
        nat_ids: list[pulumi.Output[str]] = []
        for plan in layout:
            public = aws.ec2.Subnet(
                f"{name}-public-{plan.zone}",
                vpc_id=vpc.id,
                cidr_block=plan.public_cidr,
                availability_zone=plan.zone,
                map_public_ip_on_launch=False,
                tags={**named(tags, f"{name}-public-{plan.zone}"), "kubernetes.io/role/elb": "1"},
                opts=child_opts(self),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{plan.zone}",
                subnet_id=public.id,
                route_table_id=public_rt.id,
                opts=child_opts(self),
            )
            self.public_subnet_ids.append(public.id)
            if args.nat_per_az or not nat_ids:
                eip = aws.ec2.Eip(
                    f"{name}-nat-{plan.zone}",
                    domain="vpc",
                    tags=named(tags, f"{name}-nat-{plan.zone}"),
                    opts=child_opts(self),
                )
                nat = aws.ec2.NatGateway(
                    f"{name}-nat-{plan.zone}",
                    allocation_id=eip.id,
                    subnet_id=public.id,
                    tags=named(tags, f"{name}-nat-{plan.zone}"),
                    opts=child_opts(self, depends_on=[igw]),
                )
                nat_ids.append(nat.id)
        for i, plan in enumerate(layout):
            private = aws.ec2.Subnet(
                f"{name}-private-{plan.zone}",
                vpc_id=vpc.id,
                cidr_block=plan.private_cidr,
                availability_zone=plan.zone,
                tags={
                    **named(tags, f"{name}-private-{plan.zone}"),
                    "kubernetes.io/role/internal-elb": "1",
                },
                opts=child_opts(self),
            )
            # Routes are resources of their own (none inline), so peering can add its routes.
            rt = aws.ec2.RouteTable(
                f"{name}-private-{plan.zone}",
                vpc_id=vpc.id,
                tags=named(tags, f"{name}-private-{plan.zone}"),
                opts=child_opts(self),
            )
            aws.ec2.Route(
                f"{name}-private-{plan.zone}-nat",
                route_table_id=rt.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat_ids[i % len(nat_ids)],
                opts=child_opts(self),
            )
            self.private_route_table_ids.append(rt.id)
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{plan.zone}",
                subnet_id=private.id,
                route_table_id=rt.id,
                opts=child_opts(self),
            )
            self.private_subnet_ids.append(private.id)
        self._flow_logs(name, vpc, args)
        self.vpc_id = vpc.id
        self.register_outputs({"vpc_id": vpc.id})

    def _flow_logs(self, name: str, vpc: aws.ec2.Vpc, args: NetworkArgs) -> None:
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            retention_in_days=args.flow_log_retention_days,
            tags=args.tags,
            opts=child_opts(self),
        )
        role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=assume_role_policy("vpc-flow-logs.amazonaws.com"),
            tags=args.tags,
            opts=child_opts(self),
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=group.arn.apply(
                lambda arn: allow_policy(
                    ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    [arn, f"{arn}:*"],
                )
            ),
            opts=child_opts(self),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            tags=args.tags,
            opts=child_opts(self),
        )

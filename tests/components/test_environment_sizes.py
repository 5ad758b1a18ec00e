"""Regions, zones, node counts and sizes of each environment match DESIGN.md §2."""

from __future__ import annotations

from collections import defaultdict

from components.plan import Plan

from .planning import plan_of, region_of

SPECS = {
    "c5.xlarge": (4, 8),
    "m5.4xlarge": (16, 64),
    "m5a.4xlarge": (16, 64),
    "m6i.4xlarge": (16, 64),
}
"""EC2 instance type -> (vCPU, GiB memory), from the EC2 instance-type pages."""


def _node_groups(plan: Plan) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = defaultdict(list)
    for ng in plan.of_type("aws:eks/nodeGroup:NodeGroup"):
        out[region_of(plan, ng)].append(ng.inputs)
    return out


def _nodes(group: dict[str, object]) -> int:
    return int(group["scalingConfig"]["desiredSize"])  # type: ignore[index]


def test_production_runs_active_active_in_three_regions() -> None:
    plan = plan_of("production")
    clusters = plan.of_type("aws:eks/cluster:Cluster")
    assert sorted(region_of(plan, c) for c in clusters) == [
        "ap-southeast-1",
        "eu-west-1",
        "us-east-1",
    ]
    regions = {region_of(plan, r) for r in plan.of_type("aws:ec2/vpc:Vpc")}
    assert regions == {"us-east-1", "eu-west-1", "ap-southeast-1"}


def test_every_region_spreads_over_three_zones() -> None:
    for env in ("staging", "production"):
        plan = plan_of(env)
        zones: dict[str, set[str]] = defaultdict(set)
        for subnet in plan.of_type("aws:ec2/subnet:Subnet"):
            zone = subnet.inputs["availabilityZone"]
            region = region_of(plan, subnet)
            assert zone.startswith(region)
            zones[region].add(zone)
        assert zones, (env, zones)
        assert all(len(z) == 3 for z in zones.values()), (env, zones)


def test_production_has_fifty_plus_nodes_per_region_and_the_seed_totals() -> None:
    groups = _node_groups(plan_of("production"))
    cores = memory = 0
    for region, gs in groups.items():
        nodes = sum(_nodes(g) for g in gs)
        assert nodes >= 50, region
        for g in gs:
            vcpu, gib = SPECS[g["instanceTypes"][0]]  # type: ignore[index]
            cores += _nodes(g) * vcpu
            memory += _nodes(g) * gib
        assert {g["capacityType"] for g in gs} == {"ON_DEMAND", "SPOT"}
    assert cores >= 2000
    assert memory >= 4 * 1024


def test_staging_is_six_c5_xlarge_in_one_region() -> None:
    plan = plan_of("staging")
    groups = _node_groups(plan)
    assert list(groups) == ["us-east-1"]
    gs = groups["us-east-1"]
    assert sum(_nodes(g) for g in gs) == 6
    assert all(g["instanceTypes"] == ["c5.xlarge"] for g in gs)
    template = plan.of_type("aws:ec2/launchTemplate:LaunchTemplate")[0]
    disk = template.inputs["blockDeviceMappings"][0]["ebs"]["volumeSize"]
    assert 6 * disk >= 500
    assert sum(_nodes(g) * SPECS["c5.xlarge"][0] for g in gs) == 24


def test_laptop_declares_only_kubernetes_resources() -> None:
    plan = plan_of("laptop")
    types = {r.type for r in plan.custom}
    assert types
    assert all(t.startswith(("kubernetes:", "pulumi:providers:kubernetes")) for t in types)


def test_nat_gateway_per_zone_in_production_only() -> None:
    prod, staging = plan_of("production"), plan_of("staging")
    per_region: dict[str, int] = defaultdict(int)
    for nat in prod.of_type("aws:ec2/natGateway:NatGateway"):
        per_region[region_of(prod, nat)] += 1
    assert dict(per_region) == {"us-east-1": 3, "eu-west-1": 3, "ap-southeast-1": 3}
    assert len(staging.of_type("aws:ec2/natGateway:NatGateway")) == 1


def test_every_vpc_has_flow_logs_of_all_traffic() -> None:
    for env in ("staging", "production"):
        plan = plan_of(env)
        logs = plan.of_type("aws:ec2/flowLog:FlowLog")
        assert len(logs) == len(plan.of_type("aws:ec2/vpc:Vpc"))
        assert all(f.inputs["trafficType"] == "ALL" for f in logs)


def test_production_provisions_100_tb_of_block_storage() -> None:
    plan = plan_of("production")
    template_gib = {
        f"{t.name}-id": t.inputs["blockDeviceMappings"][0]["ebs"]["volumeSize"]
        for t in plan.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    }
    nodes = sum(
        _nodes(g.inputs) * template_gib[g.inputs["launchTemplate"]["id"]]
        for g in plan.of_type("aws:eks/nodeGroup:NodeGroup")
    )
    search = sum(
        d.inputs["clusterConfig"]["instanceCount"] * d.inputs["ebsOptions"]["volumeSize"]
        for d in plan.of_type("aws:opensearch/domain:Domain")
    )
    kafka = sum(
        m.inputs["numberOfBrokerNodes"]
        * m.inputs["brokerNodeGroupInfo"]["storageInfo"]["ebsStorageInfo"]["volumeSize"]
        for m in plan.of_type("aws:msk/cluster:Cluster")
    )
    assert nodes + search + kafka >= 100 * 1000

"""Every region writes where it can: no service in a secondary region writes to a read-only
endpoint. DocumentDB's writer and Keycloak's database are the primary's, reached over a VPC
peering that is routed both ways and admitted on the writers' ports only; Aurora's secondaries
forward writes; each region keeps its own Redis."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from components.stackfile import default_program_dir, load_stack

from .planning import plan_of, region_of, unwrap


@pytest.mark.parametrize("env", ["staging", "production"])
def test_secondaries_peer_with_the_primary_and_write_there(env: str) -> None:
    plan = plan_of(env)
    config = load_stack(default_program_dir(), env).config
    # The stack's order (the plan's is the order of registration, which threads shuffle).
    regions = json.loads(config["librechat:regions"])
    primary, secondaries = regions[0], regions[1:]
    cidrs = json.loads(config["librechat:vpcCidrs"])
    peerings = plan.of_type("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")
    assert sorted(region_of(plan, p) for p in peerings) == sorted(secondaries)
    for peering in peerings:
        assert peering.inputs["peerRegion"] == primary
    routes = plan.of_type("aws:ec2/route:Route")
    for secondary in secondaries:
        to_primary = [
            r
            for r in routes
            if r.inputs.get("destinationCidrBlock") == cidrs[primary]
            and region_of(plan, r) == secondary
        ]
        back = [r for r in routes if r.inputs.get("destinationCidrBlock") == cidrs[secondary]]
        assert len(to_primary) == len(back) == 3  # every private route table, both sides
    (data_sg,) = [
        g
        for g in plan.of_type("aws:ec2/securityGroup:SecurityGroup")
        if g.name.endswith("-data") and region_of(plan, g) == primary
    ]
    from_peers = [
        rule
        for rule in data_sg.inputs["ingress"]
        if set(rule["cidrBlocks"]) & {cidrs[s] for s in secondaries}
    ]
    assert {(r["fromPort"], r["toPort"]) for r in from_peers} == (
        {(27017, 27017), (5432, 5432)} if secondaries else set()
    )
    shared = [
        (region_of(plan, s), unwrap(s.inputs["stringData"]))
        for s in plan.of_type("kubernetes:core/v1:Secret")
        if s.inputs["metadata"]["name"] == "librechat-shared"
    ]
    docdb = {region_of(plan, c): c.name for c in plan.of_type("aws:docdb/cluster:Cluster")}
    redis = {
        region_of(plan, g): g.name
        for g in plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup")
        if "ratelimit" not in g.name
    }
    for region, values in shared:
        mongo = urlsplit(unwrap(values["MONGO_URI"])).hostname
        assert mongo == f"{docdb[primary]}.cluster.mock", region
        assert urlsplit(unwrap(values["REDIS_URI"])).hostname == f"{redis[region]}.cache.mock"

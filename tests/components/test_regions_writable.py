"""Every region writes where it can: no service in a secondary region writes to a read-only
endpoint. DocumentDB's writer and Keycloak's database are the writer region's, reached over VPC
peerings (a mesh, so any region can become the writer) routed both ways and admitted on the
writers' ports only; Aurora's other regions forward writes; each region keeps its own Redis. A
switchover is a stack setting that moves every writer-bound piece and replaces no cluster."""

from __future__ import annotations

import json
from itertools import combinations
from typing import Any
from urllib.parse import urlsplit

import pytest

from components.errors import ConfigError
from components.plan import Plan, plan_env
from components.stackfile import default_program_dir, load_stack

from .planning import plan_of, provider_region, region_of, unwrap


def _stack(env: str) -> tuple[list[str], dict[str, str]]:
    config = load_stack(default_program_dir(), env).config
    return json.loads(config["librechat:regions"]), json.loads(config["librechat:vpcCidrs"])


def _by_region(plan: Plan, typ: str, *, skip: str = "") -> dict[str, Any]:
    return {region_of(plan, r): r for r in plan.of_type(typ) if not skip or skip not in r.name}


def _eks(plan: Plan, region: str) -> str:
    (cluster,) = [
        c for c in plan.of_type("aws:eks/cluster:Cluster") if region_of(plan, c) == region
    ]
    return str(cluster.name)


def _writes(plan: Plan, writer: str) -> None:
    """Every service writes in ``writer``'s region, and Aurora forwards from the others."""
    docdb = _by_region(plan, "aws:docdb/cluster:Cluster")
    aurora = _by_region(plan, "aws:rds/cluster:Cluster")
    redis = _by_region(plan, "aws:elasticache/replicationGroup:ReplicationGroup", skip="ratelimit")
    for secret in plan.of_type("kubernetes:core/v1:Secret"):
        region, values = region_of(plan, secret), unwrap(secret.inputs["stringData"])
        name = secret.inputs["metadata"]["name"]
        if name == "librechat-shared":
            assert urlsplit(unwrap(values["MONGO_URI"])).hostname == (
                f"{docdb[writer].name}.cluster.mock"
            )
            redis_host = urlsplit(unwrap(values["REDIS_URI"])).hostname
            assert redis_host == f"{redis[region].name}.cache.mock"
        if name == "rag-db":
            endpoint = "cluster" if region == writer else "cluster-ro"
            assert values["DB_HOST"] == f"{aurora[region].name}.{endpoint}.mock"
    for region, cluster in aurora.items():
        assert bool(cluster.inputs.get("enableGlobalWriteForwarding")) == (region != writer)
    for release in plan.of_type("kubernetes:helm.sh/v3:Release"):
        if release.inputs["name"] == "keycloak":
            database = unwrap(release.inputs["values"])["database"]
            assert database["hostname"] == f"{aurora[writer].name}.cluster.mock"
    jobs = [j for j in plan.of_type("kubernetes:batch/v1:Job") if "rag-db-migrate" in j.name]
    assert [region_of(plan, j) for j in jobs] == [writer]


@pytest.mark.parametrize("env", ["staging", "production"])
def test_every_region_reaches_the_writer_and_writes_there(env: str) -> None:
    plan = plan_of(env)
    regions, cidrs = _stack(env)
    peerings = plan.of_type("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")
    pairs = {frozenset((region_of(plan, p), p.inputs["peerRegion"])) for p in peerings}
    assert len(peerings) == len(pairs) == len(list(combinations(regions, 2)))
    assert pairs == {frozenset(pair) for pair in combinations(regions, 2)}
    routes = plan.of_type("aws:ec2/route:Route")
    for region in regions:
        for other in regions:
            if other != region:
                to_other = [
                    r
                    for r in routes
                    if r.inputs.get("destinationCidrBlock") == cidrs[other]
                    and provider_region(plan, r) == region
                ]
                assert len(to_other) == 3, (region, other)  # every private route table
    for group in plan.of_type("aws:ec2/securityGroup:SecurityGroup"):
        if not group.name.endswith("-data"):
            continue
        region = region_of(plan, group)
        others = {cidrs[r] for r in regions if r != region}
        from_others = [r for r in group.inputs["ingress"] if set(r.get("cidrBlocks", [])) & others]
        # Inside the region, the cluster's nodes (every pod) and nothing else in the VPC.
        local = [r for r in group.inputs["ingress"] if r not in from_others]
        assert all(r.get("securityGroups") == [f"sg-{_eks(plan, region)}"] for r in local)
        assert not any(r.get("cidrBlocks") for r in local)
        assert {(r["fromPort"], r["toPort"]) for r in from_others} == (
            {(27017, 27017), (5432, 5432)} if others else set()
        )
    _writes(plan, regions[0])


def test_a_switchover_moves_every_writer_and_replaces_no_cluster() -> None:
    before = plan_of("production")
    regions, _ = _stack("production")
    after = plan_env("production", default_program_dir(), {"librechat:writerRegion": regions[1]})
    _writes(after, regions[1])
    for typ in ("aws:rds/cluster:Cluster", "aws:docdb/cluster:Cluster"):
        old, new = _by_region(before, typ), _by_region(after, typ)
        for region in regions:
            changed = {
                k
                for k in {*old[region].inputs, *new[region].inputs}
                if old[region].inputs.get(k) != new[region].inputs.get(k)
            }
            assert changed <= {"enableGlobalWriteForwarding"}, (typ, region, changed)
    # The global clusters' creation settings stay with the first region.
    for cluster in after.of_type("aws:rds/cluster:Cluster"):
        assert ("masterUsername" in cluster.inputs) == (region_of(after, cluster) == regions[0])


def test_the_writer_must_be_one_of_the_regions() -> None:
    with pytest.raises(ConfigError, match="must be one of the regions"):
        plan_env("production", default_program_dir(), {"librechat:writerRegion": "us-west-2"})

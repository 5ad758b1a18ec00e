"""The offline plan: tree by region and component, comparison, and isolation of the runtime."""

from __future__ import annotations

import pulumi

from components.plan import compare_counts, plan_env, tree, type_counts
from components.stackfile import default_program_dir

from .planning import plan_of


def test_production_tree_has_each_region_and_its_components() -> None:
    t = tree(plan_of("production"))
    assert set(t) == {"global", "us-east-1", "eu-west-1", "ap-southeast-1"}
    for region in ("us-east-1", "eu-west-1", "ap-southeast-1"):
        kinds = {c.split()[0] for c in t[region]}
        expected = {
            "(providers)", "Network", "Cluster", "DataStores", "RegionalIngress", "Platform"
        }  # fmt: skip
        if region != "us-east-1":  # a secondary peers with the primary
            expected.add("RegionPeering")
        assert kinds == expected
    assert {c.split()[0] for c in t["global"]} >= {"GlobalDatabases", "Edge", "Replication"}
    assert sum(sum(c.values()) for comps in t.values() for c in comps.values()) == len(
        plan_of("production").custom
    )


def test_compare_shows_what_changes_between_environments() -> None:
    diff = compare_counts(plan_of("staging"), plan_of("production"))
    assert diff["aws:eks/nodeGroup:NodeGroup"] == (2, 6)
    assert diff["aws:ec2/natGateway:NatGateway"] == (1, 9)
    assert "aws:wafv2/webAcl:WebAcl" not in diff


def test_a_plan_is_repeatable_and_leaves_the_callers_runtime_alone() -> None:
    again = plan_env("staging", default_program_dir())
    assert type_counts(again) == type_counts(plan_of("staging"))
    assert pulumi.runtime.get_root_resource() is None
    assert pulumi.runtime.get_config("librechat:environment") is None

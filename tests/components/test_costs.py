"""The cost estimate: arithmetic per resource type and whole-plan totals."""

from __future__ import annotations

import pytest

from components.costs import estimate, price_resource, price_table
from components.errors import PriceError
from components.mocks import PlannedResource

from .planning import plan_of


def _resource(typ: str, inputs: dict[str, object], name: str = "r") -> PlannedResource:
    return PlannedResource(f"urn:{name}", typ, name, None, True, inputs)


def test_price_table_states_its_source_and_date() -> None:
    table = price_table()
    assert "pricing" in table["source"]
    assert table["date"]
    assert table["hours_per_month"] == 730


def test_node_groups_cost_instances_plus_their_volumes() -> None:
    table = {**price_table(), "ec2_hourly": {"c5.xlarge": 0.17}, "spot_factor": 0.5}
    template = _resource(
        "aws:ec2/launchTemplate:LaunchTemplate",
        {"blockDeviceMappings": [{"ebs": {"volumeSize": 100}}]},
        name="lt",
    )
    group = {
        "scalingConfig": {"desiredSize": 2},
        "instanceTypes": ["c5.xlarge"],
        "launchTemplate": {"id": "lt-id"},
    }
    on_demand = price_resource(
        _resource("aws:eks/nodeGroup:NodeGroup", {**group, "capacityType": "ON_DEMAND"}),
        table,
        {"lt-id": template},
    )
    spot = price_resource(
        _resource("aws:eks/nodeGroup:NodeGroup", {**group, "capacityType": "SPOT"}),
        table,
        {"lt-id": template},
    )
    ebs = 2 * 100 * table["ebs_gp3_gb_month"]
    assert on_demand is not None
    assert spot is not None
    assert on_demand[0] == pytest.approx(2 * 0.17 * 730 + ebs)
    assert spot[0] == pytest.approx(2 * 0.17 * 730 * 0.5 + ebs)


def test_an_instance_type_missing_from_the_table_is_an_error() -> None:
    r = _resource("aws:rds/clusterInstance:ClusterInstance", {"instanceClass": "db.x99.huge"})
    with pytest.raises(PriceError, match=r"db\.x99\.huge"):
        price_resource(r, price_table(), {})


def test_usage_based_resources_have_no_fixed_price() -> None:
    assert price_resource(_resource("aws:s3/bucket:Bucket", {}), price_table(), {}) is None


def test_plan_totals_add_up_and_production_costs_more_than_staging() -> None:
    staging, production = estimate(plan_of("staging")), estimate(plan_of("production"))
    assert sum(production.by_region().values()) == pytest.approx(production.total)
    assert set(production.by_region()) == {"global", "us-east-1", "eu-west-1", "ap-southeast-1"}
    assert production.total > 10 * staging.total > 0
    assert "aws:s3/bucket:Bucket" in production.unpriced_types
    # The same fleet costs more in Singapore than in Virginia (region factor).
    assert production.by_region()["ap-southeast-1"] > production.by_region()["us-east-1"]


def test_laptop_costs_nothing() -> None:
    assert estimate(plan_of("laptop")).total == 0

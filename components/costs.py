"""Monthly cost estimate of a plan from the committed price table (``prices.json``).

What belongs here: loading the table and pricing each provider-managed resource from its inputs.
Only fixed, provisioned charges are estimated; usage-based charges are listed as not estimated.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from .errors import PriceError
from .mocks import PlannedResource
from .plan import Plan, locate


@cache
def price_table() -> dict[str, Any]:
    """The committed price table (source and date inside)."""
    text = resources.files(__package__).joinpath("prices.json").read_text(encoding="utf-8")
    table: dict[str, Any] = json.loads(text)
    return table


@dataclass(frozen=True)
class CostLine:
    """The monthly estimate of one resource."""

    region: str
    """Region (``global`` for cross-region resources)."""
    component: str
    """Top component, e.g. ``DataStores lc-prod-use1-data``."""
    type: str
    """Resource type token."""
    name: str
    """Logical name."""
    monthly_usd: float
    """Estimated fixed monthly charge."""
    basis: str
    """How it was computed, e.g. ``40 x m5.4xlarge``."""


@dataclass(frozen=True)
class CostEstimate:
    """The estimate of a whole plan."""

    lines: list[CostLine]
    """One line per priced resource."""
    unpriced_types: list[str]
    """Types with no fixed charge in the table (usage-based or free)."""
    source: str
    """Where the prices come from."""
    date: str
    """As-of date of the prices."""

    @property
    def total(self) -> float:
        """Monthly total in USD."""
        return sum(line.monthly_usd for line in self.lines)

    def by_region(self) -> dict[str, float]:
        """Monthly total per region."""
        out: dict[str, float] = defaultdict(float)
        for line in self.lines:
            out[line.region] += line.monthly_usd
        return dict(out)


def _rate(table: dict[str, Any], group: str, key: str) -> float:
    try:
        return float(table[group][key])
    except KeyError:
        raise PriceError(f"prices.json has no {group} entry for {key!r}") from None


Priced = tuple[float, str, bool]
"""(monthly USD at us-east-1 prices, basis, whether the region factor applies)."""


Pricer = Callable[[dict[str, Any], dict[str, Any], dict[str, PlannedResource]], Priced]
"""(inputs, price table, launch templates by mock id) -> Priced."""


def _node_group(
    i: dict[str, Any], table: dict[str, Any], templates: dict[str, PlannedResource]
) -> Priced:
    count, itype = int(i["scalingConfig"]["desiredSize"]), i["instanceTypes"][0]
    spot = i.get("capacityType") == "SPOT"
    hourly = _rate(table, "ec2_hourly", itype) * (float(table["spot_factor"]) if spot else 1.0)
    disk = _node_disk_gib(i, templates)
    cost = count * (hourly * _hours(table) + disk * float(table["ebs_gp3_gb_month"]))
    return cost, f"{count} x {itype}{' spot' if spot else ''} + {disk} GiB gp3 each", True


def _node_disk_gib(i: dict[str, Any], templates: dict[str, PlannedResource]) -> int:
    """Root volume of a node: from its launch template, else ``diskSize`` (EKS default 20)."""
    if "launchTemplate" not in i:
        return int(i.get("diskSize", 20))
    template = templates.get(str(i["launchTemplate"].get("id")))
    if template is None:
        raise PriceError(
            f"node group launch template {i['launchTemplate'].get('id')} not in the plan"
        )
    return int(template.inputs["blockDeviceMappings"][0]["ebs"]["volumeSize"])


def _hours(table: dict[str, Any]) -> float:
    return float(table["hours_per_month"])


def _instance(group: str) -> Pricer:
    def price(i: dict[str, Any], table: dict[str, Any], _: dict[str, PlannedResource]) -> Priced:
        return _rate(table, group, i["instanceClass"]) * _hours(table), i["instanceClass"], True

    return price


def _hourly(key: str, basis: str, regional: bool) -> Pricer:
    def price(_: dict[str, Any], table: dict[str, Any], __: dict[str, PlannedResource]) -> Priced:
        return float(table[key]) * _hours(table), basis, regional

    return price


def _redis(i: dict[str, Any], table: dict[str, Any], _: dict[str, PlannedResource]) -> Priced:
    if "numCacheClusters" in i:  # no cluster mode: a primary and its replicas
        nodes = int(i["numCacheClusters"])
    else:
        nodes = int(i["numNodeGroups"]) * (1 + int(i["replicasPerNodeGroup"]))
    cost = nodes * _rate(table, "elasticache_hourly", i["nodeType"]) * _hours(table)
    return cost, f"{nodes} x {i['nodeType']}", True


def _opensearch(i: dict[str, Any], table: dict[str, Any], _: dict[str, PlannedResource]) -> Priced:
    cc, gib = i["clusterConfig"], int(i["ebsOptions"]["volumeSize"])
    n, masters = int(cc["instanceCount"]), int(cc.get("dedicatedMasterCount", 0))
    cost = n * _rate(table, "opensearch_hourly", cc["instanceType"]) * _hours(table)
    if masters:
        cost += (
            masters * _rate(table, "opensearch_hourly", cc["dedicatedMasterType"]) * _hours(table)
        )
    cost += n * gib * float(table["opensearch_gp3_gb_month"])
    return cost, f"{n} x {cc['instanceType']} + {masters} masters + {gib} GiB each", True


def _msk(i: dict[str, Any], table: dict[str, Any], _: dict[str, PlannedResource]) -> Priced:
    info = i["brokerNodeGroupInfo"]
    n, gib = int(i["numberOfBrokerNodes"]), int(info["storageInfo"]["ebsStorageInfo"]["volumeSize"])
    cost = n * _rate(table, "msk_hourly", info["instanceType"]) * _hours(table)
    cost += n * gib * float(table["msk_storage_gb_month"])
    return cost, f"{n} x {info['instanceType']} + {gib} GiB each", True


def _health_check(
    i: dict[str, Any], table: dict[str, Any], _: dict[str, PlannedResource]
) -> Priced:
    features = sum(
        (
            i.get("type") == "HTTPS",
            int(i.get("requestInterval", 30)) == 10,
            bool(i.get("measureLatency")),
        )
    )
    cost = float(table["route53_health_check_month"])
    cost += features * float(table["route53_health_check_feature_month"])
    return cost, f"health check + {features} optional features", False


def _waf(i: dict[str, Any], table: dict[str, Any], _: dict[str, PlannedResource]) -> Priced:
    rules = len(i.get("rules", []))
    cost = float(table["waf_web_acl_month"]) + rules * float(table["waf_rule_month"])
    return cost, f"web ACL + {rules} rules", False


def _monthly(key: str, basis: str) -> Pricer:
    def price(_: dict[str, Any], table: dict[str, Any], __: dict[str, PlannedResource]) -> Priced:
        return float(table[key]), basis, False

    return price


PRICERS: dict[str, Pricer] = {
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:eks/cluster:Cluster": _hourly("eks_cluster_hourly", "EKS control plane", False),
    "aws:ec2/natGateway:NatGateway": _hourly("nat_gateway_hourly", "NAT gateway hours", True),
    "aws:ec2/eip:Eip": _hourly("public_ipv4_hourly", "public IPv4 address", False),
    "aws:docdb/clusterInstance:ClusterInstance": _instance("docdb_hourly"),
    "aws:rds/clusterInstance:ClusterInstance": _instance("aurora_hourly"),
    "aws:elasticache/replicationGroup:ReplicationGroup": _redis,
    "aws:opensearch/domain:Domain": _opensearch,
    "aws:msk/cluster:Cluster": _msk,
    "aws:kms/key:Key": _monthly("kms_key_month", "customer-managed key"),
    "aws:route53/healthCheck:HealthCheck": _health_check,
    "aws:wafv2/webAcl:WebAcl": _waf,
    "aws:shield/subscription:Subscription": _monthly("shield_advanced_month", "Shield Advanced"),
}
"""Resource type -> pricing function; types not listed have no fixed charge."""


def price_resource(
    r: PlannedResource, table: dict[str, Any], templates: dict[str, PlannedResource]
) -> Priced | None:
    """Price one resource at us-east-1 prices; None when it has no fixed charge."""
    pricer = PRICERS.get(r.type)
    return pricer(r.inputs, table, templates) if pricer else None


def estimate(plan: Plan) -> CostEstimate:
    """Price every provider-managed resource of ``plan``; PriceError if the table lacks one."""
    table = price_table()
    where = locate(plan)
    templates = {
        f"{r.name}-id": r for r in plan.custom if r.type == "aws:ec2/launchTemplate:LaunchTemplate"
    }
    lines: list[CostLine] = []
    unpriced: set[str] = set()
    for r in plan.custom:
        priced = price_resource(r, table, templates)
        if priced is None:
            unpriced.add(r.type)
            continue
        cost, basis, regional = priced
        region, component = where[r.urn]
        factor = float(table["region_factor"].get(region, 1.0)) if regional else 1.0
        lines.append(CostLine(region, component, r.type, r.name, round(cost * factor, 2), basis))
    return CostEstimate(lines, sorted(unpriced), str(table["source"]), str(table["date"]))

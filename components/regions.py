"""AWS regions the environments may use, with their availability zones and short codes.

What belongs here: static facts about regions that configuration is validated against and that
names and CIDR layouts are derived from. No Pulumi imports.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegionInfo:
    """Static facts about one AWS region."""

    name: str
    """The region code, e.g. ``us-east-1``."""
    short: str
    """A short code used in resource names (names have length limits), e.g. ``use1``."""
    zones: tuple[str, ...]
    """Availability-zone suffixes the environments spread over (three of them)."""
    geography: str
    """Where the region is, as the seed names it (US, EU, Asia)."""


KNOWN_REGIONS: dict[str, RegionInfo] = {
    r.name: r
    for r in (
        RegionInfo("us-east-1", "use1", ("a", "b", "c"), "US"),
        RegionInfo("us-east-2", "use2", ("a", "b", "c"), "US"),
        RegionInfo("us-west-2", "usw2", ("a", "b", "c"), "US"),
        RegionInfo("eu-west-1", "euw1", ("a", "b", "c"), "EU"),
        RegionInfo("eu-central-1", "euc1", ("a", "b", "c"), "EU"),
        RegionInfo("ap-southeast-1", "apse1", ("a", "b", "c"), "Asia"),
        RegionInfo("ap-northeast-1", "apne1", ("a", "c", "d"), "Asia"),
    )
}
"""Regions with EKS, DocumentDB global clusters, Aurora Global Database and MSK."""

EDGE_REGION = "us-east-1"
"""CloudFront's certificates (ACM), Lambda@Edge functions and CLOUDFRONT-scope WAF live here."""


def availability_zones(region: str) -> list[str]:
    """The three availability zones of a known region, e.g. ``us-east-1a``."""
    return [f"{region}{suffix}" for suffix in KNOWN_REGIONS[region].zones]

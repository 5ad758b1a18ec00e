"""The validated description of one environment that the stack's config.py hands to the program.

What belongs here: frozen dataclasses (one docstring per field) and the per-environment minimums
that DESIGN.md §2 sets. ``stacks/config.py`` reads and validates Pulumi config into these; every
component receives them already checked and never reads config itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pulumi

from slos.definition import Environment

from .gateway import GatewaySettings

DEFAULT_OPERATOR_IMAGE = "librechat-ops:0.1.0"
"""The operator's image on the laptop (``docker build -t librechat-ops:0.1.0 .``): the local
platform's nodes run nothing, so no registry is involved; the clouds must set their own."""


class EnvironmentKind(StrEnum):
    """The three environments of DESIGN.md §2."""

    LAPTOP = "laptop"
    STAGING = "staging"
    PRODUCTION = "production"


MIN_NODES_PER_REGION: dict[EnvironmentKind, int] = {
    EnvironmentKind.LAPTOP: 0,
    EnvironmentKind.STAGING: 6,
    EnvironmentKind.PRODUCTION: 50,
}
"""DESIGN.md §2: staging is 6 x c5.xlarge; production has 50+ nodes in each region."""

MIN_REGIONS: dict[EnvironmentKind, int] = {
    EnvironmentKind.LAPTOP: 0,
    EnvironmentKind.STAGING: 1,
    EnvironmentKind.PRODUCTION: 3,
}
"""DESIGN.md §2: production is active-active over three regions (US, EU, Asia)."""

SHARED_SECRET_KEYS: dict[str, str] = {
    "credsKey": "CREDS_KEY",
    "credsIv": "CREDS_IV",
    "jwtSecret": "JWT_SECRET",
    "jwtRefreshSecret": "JWT_REFRESH_SECRET",
    "meiliMasterKey": "MEILI_MASTER_KEY",
    "litellmMasterKey": "LITELLM_MASTER_KEY",
}
"""Config key -> variable for the secrets identical in every replica and region: LibreChat's five
and the AI gateway's master key (LiteLLM checks it; LibreChat's custom endpoint sends it)."""

DATA_SECRET_KEYS: tuple[str, ...] = (
    "docdbMasterPassword",
    "auroraMasterPassword",
    "redisAuthToken",
    "ragDbPassword",
    "keycloakDbPassword",
    "primaryProviderKey",
    "fallbackProviderKey",
)
"""Secrets only the cloud environments need: the data stores' credentials, the RAG API's and
Keycloak's own database passwords, and the API keys of the AI gateway's two providers (the
laptop's gateway calls the simulator's mock LLMs)."""


@dataclass(frozen=True)
class NodePool:
    """One EKS managed node group per region."""

    instance_types: tuple[str, ...]
    """EC2 instance types; the first one sizes the estimate."""
    count: int
    """Desired (and minimum) number of nodes in each region."""
    max_count: int
    """Upper bound the cluster autoscaler may scale to."""


@dataclass(frozen=True)
class Nodes:
    """The worker nodes of each regional cluster."""

    on_demand: NodePool
    """The on-demand group that carries the stateful and tier-1 workloads."""
    spot: NodePool | None
    """The spot group for interruptible capacity, or None."""
    disk_gib: int
    """Root volume size of every node (gp3, encrypted)."""

    @property
    def count(self) -> int:
        """Nodes per region at the desired size."""
        return self.on_demand.count + (self.spot.count if self.spot else 0)


@dataclass(frozen=True)
class DataStoreSizes:
    """Instance classes and counts of the managed data stores in each region."""

    docdb_instance_class: str
    """DocumentDB instance class, e.g. ``db.r6g.2xlarge``."""
    docdb_instances: int
    """DocumentDB instances per regional cluster (writer + readers)."""
    redis_node_type: str
    """ElastiCache node type."""
    redis_shards: int
    """Redis cluster-mode shards (node groups) per region."""
    redis_replicas: int
    """Replicas per shard."""
    aurora_instance_class: str
    """Aurora PostgreSQL instance class."""
    aurora_instances: int
    """Aurora instances per regional cluster."""
    opensearch_instance_type: str
    """OpenSearch data-node instance type."""
    opensearch_instances: int
    """OpenSearch data nodes (a multiple of three, one per zone)."""
    opensearch_volume_gib: int
    """EBS (gp3) size of each OpenSearch data node."""
    msk_instance_type: str
    """MSK broker instance type."""
    msk_brokers: int
    """MSK brokers (a multiple of three, one per zone)."""
    msk_volume_gib: int
    """EBS size of each broker."""
    backup_retention_days: int
    """Automated backup retention of DocumentDB, Aurora and Redis snapshots."""


@dataclass(frozen=True)
class SharedSecrets:
    """Secret Outputs from Pulumi config; never plain strings."""

    librechat: dict[str, pulumi.Output[str]]
    """LibreChat variable name (``CREDS_KEY``...) -> secret value, identical in every region."""
    data: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    """Data-store credentials by config key (``docdbMasterPassword``...); empty on the laptop."""


@dataclass(frozen=True)
class CloudSpec:
    """What only the AWS environments need."""

    regions: tuple[str, ...]
    """Regions in order; the first is the primary (global clusters' writer, failover primary)."""
    vpc_cidrs: dict[str, str]
    """Region -> VPC CIDR (a /16); they must not overlap (peering, replication)."""
    kubernetes_version: str
    """EKS control-plane version."""
    private_endpoint: bool
    """True: the EKS API is reachable only from inside the VPC."""
    nat_per_az: bool
    """True: one NAT gateway per zone (production); False: a single NAT gateway."""
    deletion_protection: bool
    """Protect data stores from deletion and keep final snapshots."""
    shield_advanced: bool
    """Subscribe to Shield Advanced and protect the distribution and the hosted zone."""
    domain: str
    """The public host name of LibreChat, e.g. ``chat.example.com``."""
    hosted_zone_id: str
    """The existing Route53 hosted zone that holds ``domain``."""
    nodes: Nodes
    """Worker nodes of each regional cluster."""
    data: DataStoreSizes
    """Managed data-store sizes of each region."""
    api_access_cidrs: tuple[str, ...] = ()
    """Where the EKS API's public endpoint may be reached from (``librechat:apiAccessCidrs``;
    required when the endpoint is public, never ``0.0.0.0/0``)."""
    writer_region: str = ""
    """Where the global clusters write now (``librechat:writerRegion``; empty: the first region).
    Set it after a managed switchover of the global clusters: every service follows, and no
    cluster is replaced (the first region keeps the clusters' creation settings)."""

    @property
    def primary_region(self) -> str:
        """The first region: where the global clusters were created (their master user)."""
        return self.regions[0]

    @property
    def writer(self) -> str:
        """The region the global clusters write in now."""
        return self.writer_region or self.regions[0]


@dataclass(frozen=True)
class LaptopSpec:
    """What only the laptop environment needs."""

    kubeconfig: str | None
    """Path of the kubeconfig to deploy into; None uses the ambient one (``$KUBECONFIG``)."""
    context: str | None
    """kubeconfig context; None uses the current one."""


@dataclass(frozen=True)
class Observability:
    """What the monitoring stack is given (:mod:`components.monitoring`)."""

    slo_env: str
    """The environment of the SLO definition (``slos/slos.yaml``) the PrometheusRules and the
    dashboards are generated for."""
    slos: Environment
    """Its objectives."""
    alert_receiver: pulumi.Output[dict[str, Any]] | None = None
    """The receiver page and ticket alerts go to, a secret (``librechat:alertReceiver``); None
    when the stack sets none: no receiver is configured and alerts stay in Alertmanager."""


@dataclass(frozen=True)
class EnvironmentSpec:
    """Everything the program needs to build one environment, validated."""

    kind: EnvironmentKind
    """laptop, staging or production."""
    librechat_image_tag: str
    """The LibreChat release (tag of ``ghcr.io/danny-avila/librechat-api``) the custom resources
    ask for."""
    tags: dict[str, str]
    """Tags put on every taggable AWS resource (and labels on Kubernetes objects)."""
    secrets: SharedSecrets
    """Secret Outputs; never plain strings."""
    cloud: CloudSpec | None = None
    """AWS settings; None for the laptop."""
    laptop: LaptopSpec | None = None
    """Laptop settings; None for the cloud environments."""
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    """The AI gateway's routing, retries, fallbacks and timeouts (``librechat:gateway``)."""
    observability: Observability | None = None
    """SLO rules, dashboards, scrape targets and alert routing; None ships none of them."""
    image_overrides: dict[str, str] = field(default_factory=dict)
    """Rows of the versions table (:mod:`k8s_operator.images`) the stack replaces
    (``librechat:images``), already checked: name -> pinned reference."""
    operator_image: str = DEFAULT_OPERATOR_IMAGE
    """This project's image the operator's Deployment runs (``librechat:operatorImage``),
    built from the Dockerfile and pushed to the team's registry."""

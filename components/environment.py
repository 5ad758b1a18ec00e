"""The program body: wire the components of one environment from a validated EnvironmentSpec.

What belongs here: :func:`build_environment`, which ``stacks/__main__.py`` calls with what
``stacks/config.py`` read, and the two grouping components (Region, Global) that give the
resource tree its shape. No config reading happens here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from k8s_operator import images
from k8s_operator.images import Image

from .buckets import object_access_policy
from .cluster import Cluster, ClusterArgs, irsa_trust_policy
from .datastores import AURORA_MASTER_USER, DataStores, DataStoresArgs
from .edge import ARC_REGION, Edge, EdgeArgs, RegionalOrigin
from .global_data import GlobalDatabases, GlobalDatabasesArgs
from .ingress import RegionalIngress, RegionalIngressArgs, controller_values
from .k8s_objects import APP_NAMESPACE
from .librechat import librechat_service_accounts
from .monitoring import RECEIVER_KEY
from .network import Network, NetworkArgs
from .peering import RegionPeering, RegionPeeringArgs
from .platform import EdgeWiring, Platform, PlatformArgs, RagDatabase
from .regions import EDGE_REGION, KNOWN_REGIONS, availability_zones
from .replication import RegionBucket, Replication, ReplicationArgs
from .spec import CloudSpec, EnvironmentKind, EnvironmentSpec

SHORT_KIND = {EnvironmentKind.STAGING: "stg", EnvironmentKind.PRODUCTION: "prod"}
"""Environment codes used in AWS names."""

LAPTOP_STORE_URIS = {
    "MONGO_URI": "mongodb://mongodb.librechat-data.svc.cluster.local:27017/LibreChat",
    "REDIS_URI": "redis://redis-master.librechat-data.svc.cluster.local:6379",
}
"""Where LibreChat finds the in-cluster stores on the laptop."""


class Region(pulumi.ComponentResource):
    """Groups everything of one region (network, cluster, data stores, platform)."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("librechat:environment:Region", name, None, opts)


class Global(pulumi.ComponentResource):
    """Groups what spans regions: global clusters, replication and the edge."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("librechat:environment:Global", name, None, opts)


def build_environment(spec: EnvironmentSpec) -> None:
    """Declare every resource of the environment and export its key outputs."""
    _note_alerting(spec)
    if spec.cloud is None:
        _laptop(spec)
    else:
        _cloud(spec, spec.cloud)


def _note_alerting(spec: EnvironmentSpec) -> None:
    """Say (as a warning of ``pulumi up`` and a note of the offline plan) where alerts go when
    no receiver is set: nowhere is invented."""
    obs = spec.observability
    if obs is None:
        pulumi.log.warn("no SLO rules, dashboards or scrape targets: observability is not set")
    elif spec.kind is EnvironmentKind.LAPTOP:
        pulumi.log.info(
            f"SLO rules of {obs.slo_env!r} are loaded into Prometheus; the laptop runs no "
            "Alertmanager or Grafana"
        )
    elif obs.alert_receiver is None:
        pulumi.log.warn(
            f"no alert receiver: {RECEIVER_KEY} is not set, so page and ticket alerts stay in "
            "Alertmanager (its default route drops them); set it with "
            f"`pulumi config set --secret {RECEIVER_KEY} '<JSON receiver>'`"
        )


def _laptop(spec: EnvironmentSpec) -> None:
    laptop = spec.laptop
    region = Region("local")
    provider = k8s.Provider(
        "k8s-local",
        kubeconfig=laptop.kubeconfig if laptop else None,
        context=laptop.context if laptop else None,
        opts=pulumi.ResourceOptions(parent=region),
    )
    env = {**spec.secrets.librechat}
    env.update({k: pulumi.Output.secret(v) for k, v in LAPTOP_STORE_URIS.items()})
    Platform(
        "local-platform",
        PlatformArgs(
            kind=spec.kind.value,
            region="local",
            image_tag=spec.librechat_image_tag,
            operator_image=spec.operator_image,
            image_overrides=spec.image_overrides,
            labels=spec.tags,
            env_secrets=env,
            gateway=spec.gateway,
            observability=spec.observability,
        ),
        opts=pulumi.ResourceOptions(parent=region, providers={"kubernetes": provider}),
    )
    pulumi.export("regions", ["local"])


def _cloud(spec: EnvironmentSpec, cloud: CloudSpec) -> None:
    kind = SHORT_KIND[spec.kind]
    glob = Global("global")
    primary = aws.Provider(
        f"aws-global-{cloud.primary_region}",
        region=cloud.primary_region,
        opts=pulumi.ResourceOptions(parent=glob),
    )
    dbs = GlobalDatabases(
        "global-databases",
        GlobalDatabasesArgs(
            prefix=f"lc-{kind}", deletion_protection=cloud.deletion_protection, tags=spec.tags
        ),
        opts=pulumi.ResourceOptions(parent=glob, provider=primary),
    )
    bases: dict[str, _RegionBase] = {}
    for region in cloud.regions:
        bases[region] = _region_base(spec, cloud, dbs, region, primary=bases.get(cloud.regions[0]))
    for n, first in enumerate(cloud.regions):
        for second in cloud.regions[n + 1 :]:
            _peer(bases[second], bases[first], cloud=cloud, tags=spec.tags)
    writer = bases[cloud.writer].stores
    buckets: list[RegionBucket] = []
    origins: list[RegionalOrigin] = []
    clusters: dict[str, pulumi.Output[str]] = {}
    for region, base in bases.items():
        clusters[region] = base.cluster.name
        platform = _region_platform(spec, cloud, base, writer=writer)
        buckets.append(
            RegionBucket(region, base.stores.files_bucket, base.stores.kms_key_arn, base.provider)
        )
        if platform.ingress_hostname is not None:
            origins.append(RegionalOrigin(region, platform.ingress_hostname))
    if len(buckets) > 1:
        Replication(
            "replication",
            ReplicationArgs(buckets=buckets, tags=spec.tags),
            opts=pulumi.ResourceOptions(parent=glob),
        )
    edge_provider = aws.Provider(
        "aws-edge", region=EDGE_REGION, opts=pulumi.ResourceOptions(parent=glob)
    )
    edge = Edge(
        f"lc-{kind}-edge",
        EdgeArgs(
            prefix=f"lc-{kind}",
            domain=cloud.domain,
            hosted_zone_id=cloud.hosted_zone_id,
            origins=origins,
            shield_advanced=cloud.shield_advanced,
            tags=spec.tags,
            arc_provider=aws.Provider(
                "aws-arc", region=ARC_REGION, opts=pulumi.ResourceOptions(parent=glob)
            ),
        ),
        opts=pulumi.ResourceOptions(parent=glob, provider=edge_provider),
    )
    pulumi.export("regions", list(cloud.regions))
    pulumi.export("writerRegion", cloud.writer)
    pulumi.export("clusters", clusters)
    pulumi.export("distribution", edge.distribution_domain)
    # What the region-failover experiment reads (ARC_CLUSTER_ENDPOINTS, ARC_*_ROUTING_CONTROL_ARN).
    pulumi.export("routingControls", edge.routing_controls)
    pulumi.export("arcClusterEndpoints", edge.arc_cluster_endpoints)


def _librechat_files(
    prefix: str,
    region: str,
    *,
    cluster: Cluster,
    stores: DataStores,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> dict[str, Any]:
    """LibreChat's files in ``region``: an IRSA role that only the service accounts of
    LibreChat's API pools may assume, with object access to the region's files bucket (no static
    keys); returns the ``LibreChat`` resource's ``files``."""
    accounts = librechat_service_accounts()
    role = aws.iam.Role(
        f"{prefix}-librechat-files",
        description="LibreChat's file strategy (S3), assumed through IRSA",
        assume_role_policy=pulumi.Output.all(
            cluster.oidc_provider_arn, cluster.oidc_issuer_url
        ).apply(lambda v: irsa_trust_policy(v[0], v[1], APP_NAMESPACE, accounts)),
        tags=tags,
        opts=opts,
    )
    aws.iam.RolePolicy(
        f"{prefix}-librechat-files",
        role=role.id,
        policy=pulumi.Output.all(stores.files_bucket.arn, stores.kms_key_arn).apply(
            lambda v: object_access_policy(v[0], v[1])
        ),
        opts=opts,
    )
    return {"s3": {"bucket": stores.files_bucket.id, "region": region, "roleArn": role.arn}}


def _edge_wiring(
    ingress: RegionalIngress,
    *,
    cluster: Cluster,
    network: Network,
    stores: DataStores,
    region: str,
    image: Image,
    redis_auth_token: pulumi.Output[str],
) -> EdgeWiring:
    """The region's way in, as the Platform needs it: the origin's certificate and groups for the
    Kong Service, Kong's rate-limit Redis, and the load balancer controller's chart values."""
    return EdgeWiring(
        certificate_arn=ingress.certificate_arn,
        security_groups=ingress.security_groups,
        ratelimit_redis_host=stores.ratelimit_redis_host,
        redis_auth_token=redis_auth_token,
        controller=controller_values(
            cluster_name=cluster.name,
            region=region,
            vpc_id=network.vpc_id,
            role_arn=ingress.controller_role_arn,
            image=(image.repository, image.tag),
        ),
    )


def _peer(
    requester: _RegionBase, accepter: _RegionBase, *, cloud: CloudSpec, tags: dict[str, str]
) -> RegionPeering:
    """Peer two regions' VPCs (a mesh: whichever region writes, every other reaches it)."""
    return RegionPeering(
        f"{requester.prefix}-peering-{accepter.region}",
        RegionPeeringArgs(
            prefix=requester.prefix,
            primary_region=accepter.region,
            primary_vpc_id=accepter.network.vpc_id,
            primary_cidr=cloud.vpc_cidrs[accepter.region],
            primary_route_tables=accepter.network.private_route_table_ids,
            secondary_vpc_id=requester.network.vpc_id,
            secondary_cidr=cloud.vpc_cidrs[requester.region],
            secondary_route_tables=requester.network.private_route_table_ids,
            primary_provider=accepter.provider,
            tags=tags,
        ),
        opts=requester.in_region,
    )


@dataclass(frozen=True)
class _RegionBase:
    """What a region is built on: its group, provider, network, cluster and stores."""

    region: str
    prefix: str
    group: pulumi.ComponentResource
    provider: aws.Provider
    network: Network
    cluster: Cluster
    stores: DataStores

    @property
    def in_region(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.group, provider=self.provider)


def _region_base(
    spec: EnvironmentSpec,
    cloud: CloudSpec,
    dbs: GlobalDatabases,
    region: str,
    *,
    primary: _RegionBase | None,
) -> _RegionBase:
    """A region's network, cluster and data stores (the first region's stores create the global
    clusters' writers; the others join them)."""
    prefix = f"lc-{SHORT_KIND[spec.kind]}-{KNOWN_REGIONS[region].short}"
    group = Region(region)
    provider = aws.Provider(
        f"aws-{region}", region=region, opts=pulumi.ResourceOptions(parent=group)
    )
    in_region = pulumi.ResourceOptions(parent=group, provider=provider)
    network = Network(
        f"{prefix}-net",
        NetworkArgs(
            region=region,
            cidr=cloud.vpc_cidrs[region],
            zones=availability_zones(region),
            nat_per_az=cloud.nat_per_az,
            flow_log_retention_days=365 if cloud.deletion_protection else 30,
            tags=spec.tags,
        ),
        opts=in_region,
    )
    cluster = Cluster(
        f"{prefix}-eks",
        ClusterArgs(
            cluster_name=f"librechat-{spec.kind.value}-{region}",
            region=region,
            version=cloud.kubernetes_version,
            subnet_ids=network.private_subnet_ids,
            private_endpoint=cloud.private_endpoint,
            api_access_cidrs=cloud.api_access_cidrs,
            nodes=cloud.nodes,
            log_retention_days=365 if cloud.deletion_protection else 30,
            tags=spec.tags,
        ),
        opts=in_region,
    )
    stores = DataStores(
        f"{prefix}-data",
        DataStoresArgs(
            prefix=prefix,
            primary=primary is None,
            vpc_id=network.vpc_id,
            client_security_group=cluster.node_security_group,
            subnet_ids=network.private_subnet_ids,
            sizes=cloud.data,
            deletion_protection=cloud.deletion_protection,
            docdb_global_id=dbs.docdb_id,
            aurora_global_id=dbs.aurora_id,
            secrets=spec.secrets.data,
            tags=spec.tags,
            # Any region may become the writer (a switchover): every one admits the others.
            peer_cidrs=tuple(cloud.vpc_cidrs[r] for r in cloud.regions if r != region),
            writer=region == cloud.writer,
        ),
        opts=pulumi.ResourceOptions(
            parent=group,
            provider=provider,
            depends_on=[primary.stores] if primary else [],
        ),
    )
    return _RegionBase(region, prefix, group, provider, network, cluster, stores)


def _region_platform(
    spec: EnvironmentSpec, cloud: CloudSpec, base: _RegionBase, *, writer: DataStores
) -> Platform:
    """A region's in-cluster platform, wired to its stores and to the writer region's."""
    region, prefix, cluster, stores = base.region, base.prefix, base.cluster, base.stores
    kube = k8s.Provider(
        f"k8s-{region}",
        kubeconfig=cluster.kubeconfig,
        enable_server_side_apply=True,
        opts=pulumi.ResourceOptions(parent=base.group),
    )
    ingress = RegionalIngress(
        f"{prefix}-ingress",
        RegionalIngressArgs(
            prefix=prefix,
            region=region,
            domain=cloud.domain,
            hosted_zone_id=cloud.hosted_zone_id,
            vpc_id=base.network.vpc_id,
            vpc_cidr=cloud.vpc_cidrs[region],
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer_url=cluster.oidc_issuer_url,
            tags=spec.tags,
        ),
        opts=base.in_region,
    )
    return Platform(
        f"{prefix}-platform",
        PlatformArgs(
            kind=spec.kind.value,
            region=region,
            image_tag=spec.librechat_image_tag,
            operator_image=spec.operator_image,
            image_overrides=spec.image_overrides,
            labels=spec.tags,
            env_secrets={
                **spec.secrets.librechat,
                # A global cluster's secondaries are read-only, and LibreChat takes one MongoDB
                # URI: every region writes (and reads) at the writer region's cluster.
                "MONGO_URI": writer.mongo_uri,
                "REDIS_URI": stores.redis_uri,
            },
            kms_key_arn=stores.kms_key_arn,
            keycloak_db_host=writer.aurora_writer,
            keycloak_db_password=spec.secrets.data["keycloakDbPassword"],
            edge=_edge_wiring(
                ingress,
                cluster=cluster,
                network=base.network,
                stores=stores,
                region=region,
                image=images.with_overrides(spec.image_overrides)["aws-load-balancer-controller"],
                redis_auth_token=spec.secrets.data["redisAuthToken"],
            ),
            provider_keys={
                spec.gateway.primary.api_key_env: spec.secrets.data["primaryProviderKey"],
                spec.gateway.fallback.api_key_env: spec.secrets.data["fallbackProviderKey"],
            },
            rag_database=RagDatabase(
                host=stores.aurora_endpoint,
                master_user=AURORA_MASTER_USER,
                master_password=spec.secrets.data["auroraMasterPassword"],
                rag_password=spec.secrets.data["ragDbPassword"],
                keycloak_password=spec.secrets.data["keycloakDbPassword"],
                migrate=region == cloud.writer,
            ),
            files=_librechat_files(
                prefix, region, cluster=cluster, stores=stores, tags=spec.tags, opts=base.in_region
            ),
            gateway=spec.gateway,
            observability=spec.observability,
        ),
        opts=pulumi.ResourceOptions(
            parent=base.group, providers={"kubernetes": kube}, depends_on=[cluster]
        ),
    )

"""The one place that reads and validates the stack's configuration (namespace ``librechat``).

Every problem raises :class:`components.errors.ConfigError` naming the full config key. The
result is an :class:`components.spec.EnvironmentSpec`; secrets stay secret Outputs throughout.
Keys are documented in the committed ``Pulumi.<stack>.yaml`` files next to this module.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pulumi

from components.errors import ConfigError
from components.gateway import settings_from_config
from components.librechat import image_overrides, operator_image
from components.monitoring import RECEIVER_KEY, receiver_from_config
from components.regions import KNOWN_REGIONS
from components.spec import (
    DATA_SECRET_KEYS,
    DEFAULT_OPERATOR_IMAGE,
    MIN_NODES_PER_REGION,
    MIN_REGIONS,
    SHARED_SECRET_KEYS,
    CloudSpec,
    DataStoreSizes,
    EnvironmentKind,
    EnvironmentSpec,
    LaptopSpec,
    NodePool,
    Nodes,
    Observability,
    SharedSecrets,
)
from components.stackfile import PLACEHOLDER_PREFIX
from slos import definition as slo_definition
from slos.errors import SloError

NAMESPACE = "librechat"
"""Config namespace: keys are ``librechat:<name>``."""


def _key(name: str) -> str:
    return f"{NAMESPACE}:{name}"


def _get(cfg: pulumi.Config, name: str, kind: type, *, required: bool = True) -> Any:
    """A value of the expected JSON type, or a ConfigError naming the key."""
    try:
        raw = cfg.get_object(name) if kind in (list, dict) else cfg.get(name)
    except ValueError as exc:
        raise ConfigError(_key(name), f"is not valid JSON/YAML: {exc}") from None
    if raw is None:
        if required:
            raise ConfigError(_key(name), "is required but not set")
        return None
    if kind is bool:
        if str(raw).lower() not in ("true", "false"):
            raise ConfigError(_key(name), f"must be true or false, got {raw!r}")
        return str(raw).lower() == "true"
    if not isinstance(raw, kind):
        raise ConfigError(_key(name), f"must be a {kind.__name__}, got {raw!r}")
    return raw


def _field(
    obj: dict[str, Any], path: str, name: str, kind: type, minimum: int | None = None
) -> Any:
    key = f"{_key(path)}.{name}"
    if name not in obj:
        raise ConfigError(key, "is required but not set")
    value = obj[name]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(key, f"must be an integer, got {value!r}")
    if not isinstance(value, kind):
        raise ConfigError(key, f"must be a {kind.__name__}, got {value!r}")
    if minimum is not None and isinstance(value, int) and value < minimum:
        raise ConfigError(key, f"must be at least {minimum}, got {value}")
    return value


def _secret(cfg: pulumi.Config, name: str) -> pulumi.Output[str]:
    key = _key(name)
    value = cfg.get_secret(name)
    if value is None:
        raise ConfigError(
            key, f"secret is missing; set it with `pulumi config set --secret {key} <value>`"
        )
    if not pulumi.runtime.is_config_secret(key):
        raise ConfigError(
            key, f"is stored in plain text; re-set it with `pulumi config set --secret {key}`"
        )
    return value


def _regions(cfg: pulumi.Config, kind: EnvironmentKind) -> tuple[str, ...]:
    regions = _get(cfg, "regions", list)
    for region in regions:
        if region not in KNOWN_REGIONS:
            known = ", ".join(sorted(KNOWN_REGIONS))
            raise ConfigError(_key("regions"), f"unknown region {region!r}; known regions: {known}")
    if len(set(regions)) != len(regions):
        raise ConfigError(_key("regions"), f"lists a region twice: {regions}")
    if len(regions) < MIN_REGIONS[kind]:
        raise ConfigError(
            _key("regions"),
            f"{kind.value} needs at least {MIN_REGIONS[kind]} regions, got {len(regions)}",
        )
    if kind is EnvironmentKind.PRODUCTION:
        geos = {KNOWN_REGIONS[r].geography for r in regions}
        if geos < {"US", "EU", "Asia"}:
            raise ConfigError(
                _key("regions"), f"production must span US, EU and Asia, got {sorted(geos)}"
            )
    return tuple(regions)


def _cidrs(cfg: pulumi.Config, regions: tuple[str, ...]) -> dict[str, str]:
    cidrs = _get(cfg, "vpcCidrs", dict)
    nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for region in regions:
        key = f"{_key('vpcCidrs')}.{region}"
        if region not in cidrs:
            raise ConfigError(key, "is required: one /16 per region")
        try:
            net = ipaddress.ip_network(cidrs[region])
        except ValueError:
            raise ConfigError(key, f"is not a CIDR: {cidrs[region]!r}") from None
        if net.prefixlen != 16:
            raise ConfigError(key, f"must be a /16, got {net}")
        if any(net.overlaps(other) for other in nets):
            raise ConfigError(key, f"{net} overlaps another region's VPC")
        nets.append(net)
    return {r: cidrs[r] for r in regions}


def _pool(obj: dict[str, Any], path: str) -> NodePool:
    types = _field(obj, path, "instanceTypes", list)
    if not types or not all(isinstance(t, str) for t in types):
        raise ConfigError(f"{_key(path)}.instanceTypes", f"must list instance types, got {types!r}")
    count = _field(obj, path, "count", int, 0)
    return NodePool(tuple(types), count, _field(obj, path, "maxCount", int, max(count, 1)))


def _nodes(cfg: pulumi.Config, kind: EnvironmentKind) -> Nodes:
    obj = _get(cfg, "nodes", dict)
    spot = obj.get("spot")
    nodes = Nodes(
        on_demand=_pool(_field(obj, "nodes", "onDemand", dict), "nodes.onDemand"),
        spot=_pool(spot, "nodes.spot") if isinstance(spot, dict) else None,
        disk_gib=_field(obj, "nodes", "diskGiB", int, 20),
    )
    if nodes.count < MIN_NODES_PER_REGION[kind]:
        raise ConfigError(
            _key("nodes"),
            f"{kind.value} needs at least {MIN_NODES_PER_REGION[kind]} nodes per region "
            f"(onDemand.count + spot.count), got {nodes.count}",
        )
    return nodes


def _sizes(cfg: pulumi.Config) -> DataStoreSizes:
    obj = _get(cfg, "dataStores", dict)
    p = "dataStores"
    sizes = DataStoreSizes(
        docdb_instance_class=_field(obj, p, "docdbInstanceClass", str),
        docdb_instances=_field(obj, p, "docdbInstances", int, 1),
        redis_node_type=_field(obj, p, "redisNodeType", str),
        redis_shards=_field(obj, p, "redisShards", int, 1),
        redis_replicas=_field(obj, p, "redisReplicas", int, 1),
        aurora_instance_class=_field(obj, p, "auroraInstanceClass", str),
        aurora_instances=_field(obj, p, "auroraInstances", int, 1),
        opensearch_instance_type=_field(obj, p, "opensearchInstanceType", str),
        opensearch_instances=_field(obj, p, "opensearchInstances", int, 3),
        opensearch_volume_gib=_field(obj, p, "opensearchVolumeGiB", int, 10),
        msk_instance_type=_field(obj, p, "mskInstanceType", str),
        msk_brokers=_field(obj, p, "mskBrokers", int, 3),
        msk_volume_gib=_field(obj, p, "mskVolumeGiB", int, 1),
        backup_retention_days=_field(obj, p, "backupRetentionDays", int, 1),
    )
    for name, value in (
        ("opensearchInstances", sizes.opensearch_instances),
        ("mskBrokers", sizes.msk_brokers),
    ):
        if value % 3:
            raise ConfigError(
                f"{_key(p)}.{name}", f"must be a multiple of 3 (one per zone), got {value}"
            )
    return sizes


def _api_access(cfg: pulumi.Config, *, private: bool) -> tuple[str, ...]:
    """``librechat:apiAccessCidrs``: who may reach a public EKS API (required then, never the
    whole internet)."""
    raw = _get(cfg, "apiAccessCidrs", list, required=not private) or []
    cidrs = []
    for value in raw:
        try:
            network = ipaddress.ip_network(str(value))
        except ValueError:
            raise ConfigError(_key("apiAccessCidrs"), f"{value!r} is not a CIDR") from None
        if network.prefixlen == 0:
            raise ConfigError(
                _key("apiAccessCidrs"), f"{value} opens the cluster's API to the whole internet"
            )
        cidrs.append(str(network))
    if not private and not cidrs:
        raise ConfigError(
            _key("apiAccessCidrs"), "must name at least one CIDR (the endpoint is public)"
        )
    return tuple(cidrs)


def _cloud(cfg: pulumi.Config, kind: EnvironmentKind) -> CloudSpec:
    regions = _regions(cfg, kind)
    private = bool(_get(cfg, "privateEndpoint", bool))
    return CloudSpec(
        regions=regions,
        vpc_cidrs=_cidrs(cfg, regions),
        kubernetes_version=_get(cfg, "kubernetesVersion", str),
        private_endpoint=private,
        api_access_cidrs=_api_access(cfg, private=private),
        nat_per_az=_get(cfg, "natPerAz", bool),
        deletion_protection=_get(cfg, "deletionProtection", bool),
        shield_advanced=_get(cfg, "shieldAdvanced", bool),
        domain=_get(cfg, "domain", str),
        hosted_zone_id=_get(cfg, "hostedZoneId", str),
        nodes=_nodes(cfg, kind),
        data=_sizes(cfg),
        writer_region=_writer(cfg, regions),
    )


def _writer(cfg: pulumi.Config, regions: tuple[str, ...]) -> str:
    """``librechat:writerRegion``: one of the regions (default the first)."""
    writer = _get(cfg, "writerRegion", str, required=False) or regions[0]
    if writer not in regions:
        raise ConfigError(
            _key("writerRegion"), f"must be one of the regions {list(regions)}, got {writer!r}"
        )
    return str(writer)


def _alert_receiver(cfg: pulumi.Config) -> pulumi.Output[dict[str, Any]] | None:
    """The receiver of page and ticket alerts (``librechat:alertReceiver``, a secret JSON
    object of Alertmanager integrations), or None when the stack sets none."""
    raw = cfg.get("alertReceiver")
    if raw is None:
        return None
    if not pulumi.runtime.is_config_secret(RECEIVER_KEY):
        raise ConfigError(
            RECEIVER_KEY,
            "holds credentials and is stored in plain text; re-set it with "
            f"`pulumi config set --secret {RECEIVER_KEY} '<JSON object>'`",
        )
    if raw.startswith(PLACEHOLDER_PREFIX):
        # The offline plan cannot decrypt it: the receiver exists, its settings are unknown.
        return pulumi.Output.secret({})
    try:
        obj = json.loads(raw)
    except ValueError:
        raise ConfigError(
            RECEIVER_KEY,
            'must be a JSON object such as {"pagerduty_configs": [{"routing_key": "..."}]}',
        ) from None
    return pulumi.Output.secret(receiver_from_config(obj, RECEIVER_KEY))


def _observability(cfg: pulumi.Config, kind: EnvironmentKind) -> Observability:
    """The SLO environment (``librechat:sloEnvironment``, by default the stack's environment)
    and the alert receiver."""
    slo_env = _get(cfg, "sloEnvironment", str, required=False) or kind.value
    try:
        slos = slo_definition.environment(slo_env)
    except SloError as exc:
        raise ConfigError(
            _key("sloEnvironment"), exc.message + (f"; {exc.hint}" if exc.hint else "")
        ) from None
    return Observability(slo_env=slo_env, slos=slos, alert_receiver=_alert_receiver(cfg))


def _images(cfg: pulumi.Config) -> dict[str, str]:
    """``librechat:images``: rows of the versions table replaced, name -> pinned reference."""
    return image_overrides(_get(cfg, "images", dict, required=False), _key("images"))


def _operator_image(cfg: pulumi.Config, kind: EnvironmentKind) -> str:
    """``librechat:operatorImage``: required in the clouds (no image of this project is
    published: build the Dockerfile and push it), the local build on the laptop."""
    ref = _get(cfg, "operatorImage", str, required=kind is not EnvironmentKind.LAPTOP)
    return DEFAULT_OPERATOR_IMAGE if ref is None else operator_image(ref, _key("operatorImage"))


def load() -> EnvironmentSpec:
    """Read ``librechat:*`` config of the current stack into a validated EnvironmentSpec."""
    cfg = pulumi.Config(NAMESPACE)
    name = _get(cfg, "environment", str)
    try:
        kind = EnvironmentKind(name)
    except ValueError:
        choices = ", ".join(k.value for k in EnvironmentKind)
        raise ConfigError(_key("environment"), f"must be one of {choices}, got {name!r}") from None
    extra_tags = _get(cfg, "tags", dict, required=False) or {}
    tags = {str(k): str(v) for k, v in extra_tags.items()}
    tags.update({"project": "librechat", "environment": kind.value, "managed-by": "pulumi"})
    librechat = {var: _secret(cfg, key) for key, var in SHARED_SECRET_KEYS.items()}
    image_tag = _get(cfg, "imageTag", str)
    gateway = settings_from_config(_get(cfg, "gateway", dict, required=False), _key("gateway"))
    observability = _observability(cfg, kind)
    image_overrides = _images(cfg)
    operator_image = _operator_image(cfg, kind)
    if kind is EnvironmentKind.LAPTOP:
        return EnvironmentSpec(
            kind=kind,
            librechat_image_tag=image_tag,
            image_overrides=image_overrides,
            operator_image=operator_image,
            tags=tags,
            secrets=SharedSecrets(librechat=librechat),
            gateway=gateway,
            observability=observability,
            laptop=LaptopSpec(
                kubeconfig=_get(cfg, "kubeconfig", str, required=False),
                context=_get(cfg, "kubeContext", str, required=False),
            ),
        )
    cloud = _cloud(cfg, kind)
    data = {key: _secret(cfg, key) for key in DATA_SECRET_KEYS}
    return EnvironmentSpec(
        kind=kind,
        librechat_image_tag=image_tag,
        image_overrides=image_overrides,
        operator_image=operator_image,
        tags=tags,
        secrets=SharedSecrets(librechat=librechat, data=data),
        cloud=cloud,
        gateway=gateway,
        observability=observability,
    )

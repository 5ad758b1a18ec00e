"""The Helm releases of the in-cluster platform, as pure data with pinned chart versions.

What belongs here: which charts each environment installs, their versions and values. The
Platform component turns these into ``pulumi_kubernetes.helm.v3.Release`` resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from k8s_operator.images import IMAGES, Image

from .ingress import CONTROLLER_NAMESPACE, KONG_PROXY_PORT
from .k8s_objects import DATA_NAMESPACE, MONITORING_NAMESPACE
from .kong_config import CONFIG_MAP_NAME as KONG_CONFIG_MAP
from .monitoring import RELEASE, alertmanager_values, kong_values


@dataclass(frozen=True)
class ReleaseSpec:
    """One Helm release."""

    name: str
    """Release name."""
    namespace: str
    """Target namespace (created by the Platform component)."""
    chart: str
    """Chart name, or an ``oci://`` reference."""
    version: str
    """Pinned chart version."""
    repo: str | None
    """Chart repository URL; None for OCI charts."""
    values: dict[str, Any] = field(default_factory=dict)
    """Chart values."""


LOAD_BALANCER_CONTROLLER_CHART = "1.14.0"
"""eks/aws-load-balancer-controller; its app is v2.14.0 (the versions table's row)."""

KONG_REDIS_SECRET = "kong-redis"
"""The Secret in Kong's namespace with the rate limiter's Redis password."""

BITNAMI = "oci://registry-1.docker.io/bitnamicharts"
"""Bitnami's OCI chart registry (laptop data stores)."""


def grafana_enabled(kind: str) -> bool:
    """Grafana (and its dashboard sidecar) runs in the clouds, not on the laptop."""
    return kind != "laptop"


def _image(row: Image) -> dict[str, str]:
    """A chart's ``image`` values for a row of the versions table."""
    return {"repository": row.repository, "tag": row.tag}


def _bitnami_image(row: Image) -> dict[str, str]:
    """A Bitnami chart's ``image`` values (it joins ``registry/repository:tag`` itself)."""
    registry, repository = row.repository.split("/", 1)
    return {"registry": registry, "repository": repository, "tag": row.tag}


def platform_releases(
    *,
    kind: str,
    region: str,
    storage_class: str | None,
    keycloak_db_host: str | None,
    alert_routing: bool = False,
    images: Mapping[str, Image] = IMAGES,
    load_balancer_controller: dict[str, Any] | None = None,
) -> list[ReleaseSpec]:
    """Releases for ``kind`` (laptop, staging, production) in ``region``; ``alert_routing``
    points Alertmanager at the configuration Secret of :mod:`components.monitoring`; the
    charts' images are the rows of ``images`` (the versions table, with the stack's overrides);
    ``load_balancer_controller``: that chart's values (:func:`components.ingress.controller_values`;
    the clouds only)."""
    ha = kind == "production"
    persistence: dict[str, Any] = {"enabled": True}
    if storage_class:
        persistence["storageClass"] = storage_class
    releases = [
        ReleaseSpec(
            RELEASE,
            MONITORING_NAMESPACE,
            "kube-prometheus-stack",
            "66.3.1",
            "https://prometheus-community.github.io/helm-charts",
            {
                "prometheus": {
                    "prometheusSpec": {
                        "retention": "15d",
                        "replicas": 2 if ha else 1,
                        "externalLabels": {"region": region},
                    }
                },
                "alertmanager": {
                    "enabled": kind != "laptop",
                    **alertmanager_values(routed=alert_routing and kind != "laptop"),
                },
                "grafana": {"enabled": grafana_enabled(kind)},
            },
        ),
        ReleaseSpec(
            "meilisearch",
            DATA_NAMESPACE,
            "meilisearch",
            "0.10.1",
            "https://meilisearch.github.io/meilisearch-kubernetes",
            {
                "image": _image(images["meilisearch"]),
                "auth": {"existingMasterKeySecret": "meilisearch-master-key"},
                "environment": {"MEILI_ENV": "production"},
                "persistence": persistence,
            },
        ),
    ]
    if kind == "laptop":
        return [*releases, *_laptop_stores(images)]
    if load_balancer_controller is not None:
        releases.append(
            ReleaseSpec(
                "aws-load-balancer-controller",
                CONTROLLER_NAMESPACE,
                "aws-load-balancer-controller",
                LOAD_BALANCER_CONTROLLER_CHART,
                "https://aws.github.io/eks-charts",
                load_balancer_controller,
            )
        )
    return [
        *releases,
        ReleaseSpec(
            "cert-manager",
            "cert-manager",
            "cert-manager",
            "v1.16.2",
            "https://charts.jetstack.io",
            {"crds": {"enabled": True}, "replicaCount": 2 if ha else 1},
        ),
        ReleaseSpec(
            "kong",
            "kong",
            "kong",
            "2.46.0",
            "https://charts.konghq.com",
            {
                "image": _image(images["kong"]),
                # DB-less: the program's declarative configuration is Kong's only source.
                "ingressController": {"enabled": False},
                "dblessConfig": {"configMap": KONG_CONFIG_MAP},
                "env": {
                    "database": "off",
                    # Only CloudFront reaches Kong (the load balancer's security groups): the
                    # client is the last address CloudFront wrote in X-Forwarded-For.
                    "trusted_ips": "0.0.0.0/0,::/0",
                    "real_ip_header": "X-Forwarded-For",
                    "real_ip_recursive": "off",
                    "redis_password": {
                        "valueFrom": {
                            "secretKeyRef": {"name": KONG_REDIS_SECRET, "key": "password"}
                        }
                    },
                },
                "replicaCount": 6 if ha else 2,
                # The internet-facing NLB is the Platform's own ``kong-edge`` Service.
                "proxy": {
                    "type": "ClusterIP",
                    "http": {"enabled": True, "containerPort": KONG_PROXY_PORT},
                    "tls": {"enabled": False},
                },
                **kong_values(),
            },
        ),
        ReleaseSpec(
            "keycloak",
            "keycloak",
            "keycloakx",
            "7.0.1",
            "https://codecentric.github.io/helm-charts",
            {
                "image": _image(images["keycloak"]),
                # The seed's identity service: 3-50 pods.
                "autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 50}
                if ha
                else {"enabled": False},
                "replicas": 3 if ha else 1,
                "database": {
                    "vendor": "postgres",
                    "hostname": keycloak_db_host,
                    # Its own database and role (components.rag_database), on the primary's
                    # writer: Keycloak migrates its schema at start, which no secondary forwards.
                    "database": "keycloak",
                    "username": "keycloak",
                    "existingSecret": "keycloak-db",
                },
            },
        ),
        ReleaseSpec(
            "timescaledb",
            DATA_NAMESPACE,
            "timescaledb-single",
            "0.33.1",
            "https://charts.timescale.com",
            {"replicaCount": 3 if ha else 1, "persistentVolumes": {"data": persistence}},
        ),
    ]


def _laptop_stores(images: Mapping[str, Image]) -> list[ReleaseSpec]:
    """MongoDB, Redis and PostgreSQL with pgvector inside the laptop cluster."""
    return [
        ReleaseSpec(
            "mongodb",
            DATA_NAMESPACE,
            f"{BITNAMI}/mongodb",
            "16.3.0",
            None,
            {"image": _bitnami_image(images["bitnami-mongodb"]), "auth": {"enabled": False}},
        ),
        ReleaseSpec(
            "redis",
            DATA_NAMESPACE,
            f"{BITNAMI}/redis",
            "20.5.0",
            None,
            {
                "image": _bitnami_image(images["bitnami-redis"]),
                "architecture": "standalone",
                "auth": {"enabled": False},
            },
        ),
        ReleaseSpec(
            "postgresql",
            DATA_NAMESPACE,
            f"{BITNAMI}/postgresql",
            "16.2.5",
            None,
            # Bitnami's own image (its chart runs Bitnami's scripts), which carries pgvector.
            {"image": _bitnami_image(images["bitnami-postgresql"])},
        ),
    ]

"""Platform: what runs inside each cluster, through pulumi-kubernetes.

What belongs here: the Platform component, its Args, and :func:`rendered_objects`, the pure
function that returns every non-secret object of the platform as plain dicts (for tests and a
server-side dry-run against a real API server).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from k8s_operator import images
from k8s_operator.images import Image

from . import kong_config, librechat_config
from . import rag_database as rag_db
from .common import child_opts
from .errors import PlanError
from .gateway import GatewaySettings, config_map
from .helm import KONG_REDIS_SECRET, grafana_enabled, platform_releases
from .ingress import edge_service
from .k8s_objects import (
    APP_NAMESPACE,
    DATA_NAMESPACE,
    MONITORING_NAMESPACE,
    encrypted_storage_class,
    namespace,
    network_policies,
    platform_namespaces,
)
from .librechat import (
    LIBRECHAT_NAME,
    documentdb_ca_config_map,
    librechat_object,
    operator_objects,
)
from .monitoring import (
    ALERTMANAGER_KEY,
    ALERTMANAGER_SECRET,
    RELEASE,
    alertmanager_yaml,
    monitoring_objects,
)
from .spec import DEFAULT_OPERATOR_IMAGE, Observability

MEILI_HOST = "http://meilisearch.librechat-data.svc.cluster.local:7700"
"""The region's Meilisearch (the ``meilisearch`` release's Service), LibreChat's ``MEILI_HOST``."""

GATEWAY_KEYS_SECRET = "librechat-ai-gateway-keys"
"""The Secret with the AI gateway's provider API keys (read by the gateway's pods only)."""

SHARED_SECRET_NAME = "librechat-shared"
"""The Secret with the five shared secrets and the store URIs that LibreChat reads as env."""


def rendered_objects(
    *,
    kind: str,
    region: str,
    image_tag: str,
    labels: dict[str, str],
    kms_key_arn: str | None,
    gateway: GatewaySettings | None = None,
    slo_env: str = "laptop",
    operator_image: str = DEFAULT_OPERATOR_IMAGE,
    image_overrides: dict[str, str] | None = None,
    files: dict[str, Any] | None = None,
    rag: bool = False,
    provider_keys: bool = False,
    edge: EdgeWiring | None = None,
) -> list[dict[str, Any]]:
    """Every non-secret object: namespaces, policies, storage class, ingress, the operator (CRDs,
    RBAC, Deployment running ``operator_image``; its guards read ``slo_env``'s generated rules),
    the AI gateway's LiteLLM configuration, LibreChat's ``librechat.yaml`` and the region's
    LibreChat resource (with the stack's replaced rows of the versions table; ``files``: where
    LibreChat keeps files, see :func:`components.librechat.librechat_object`; ``rag``: the RAG
    API reads its database's Secret, :mod:`components.rag_database`)."""
    names = platform_namespaces(kind)
    objects = [namespace(n, labels) for n in names]
    for n in names:
        objects += network_policies(n, names)
    if kms_key_arn is not None:
        objects.append(encrypted_storage_class(kms_key_arn))
    if kind != "laptop":
        if edge is None:
            raise PlanError(f"the {kind} platform needs its edge wiring (certificate, groups)")
        objects.append(
            edge_service(certificate_arn=edge.certificate_arn, security_groups=edge.security_groups)
        )
        objects.append(_kong_config_map(edge.ratelimit_redis_host))
    objects += operator_objects(operator_image, slo_env=slo_env)
    gateway = gateway or GatewaySettings()
    objects.append(config_map(gateway, namespace=APP_NAMESPACE, labels=labels))
    objects.append(
        librechat_config.config_map(
            gateway,
            platform=LIBRECHAT_NAME,
            cloud=kind != "laptop",
            namespace=APP_NAMESPACE,
            labels=labels,
        )
    )
    objects.append(
        librechat_object(
            region=region,
            namespace=APP_NAMESPACE,
            version=image_tag,
            secret_name=SHARED_SECRET_NAME,
            labels=labels,
            image_overrides=image_overrides,
            redis_cluster=kind != "laptop",
            files=files,
            mongodb_ca=kind != "laptop",
            rag_secret=rag_db.RAG_SECRET if rag else None,
            gateway_keys_secret=GATEWAY_KEYS_SECRET if provider_keys else None,
        )
    )
    if kind != "laptop":
        objects.append(documentdb_ca_config_map(APP_NAMESPACE, labels))
    return objects


def _kong_config_map(redis_host: Any) -> dict[str, Any]:
    """Kong's declarative configuration; ``redis_host`` may be an Output (then so is the text)."""
    if isinstance(redis_host, str):
        return kong_config.config_map(redis_host, platform=LIBRECHAT_NAME, namespace="kong")
    made = kong_config.config_map("", platform=LIBRECHAT_NAME, namespace="kong")
    made["data"] = {
        kong_config.CONFIG_FILE: pulumi.Output.from_input(redis_host).apply(
            lambda host: kong_config.config_map(host, platform=LIBRECHAT_NAME, namespace="kong")[
                "data"
            ][kong_config.CONFIG_FILE]
        )
    }
    return made


def rag_migration(images: Mapping[str, Image], labels: dict[str, str]) -> dict[str, Any]:
    """The RAG database's migration Job, with the table's ``psql`` image (pgvector's)."""
    return rag_db.migration_job(
        namespace=APP_NAMESPACE, image=images["pgvector"].ref, labels=labels
    )


def _with_db_host(values: dict[str, Any], host: str) -> dict[str, Any]:
    return {**values, "database": {**values["database"], "hostname": host}}


def _secret(value: pulumi.Output[str]) -> pulumi.Output[str]:
    """Mark a value secret (again): a no-op for secrets, a safeguard for anything else."""
    return value.apply(pulumi.Output.secret)


_TYPED: dict[str, tuple[Callable[..., pulumi.Resource], dict[str, str]]] = {
    "Namespace": (k8s.core.v1.Namespace, {}),
    "NetworkPolicy": (k8s.networking.v1.NetworkPolicy, {"spec": "spec"}),
    "Service": (k8s.core.v1.Service, {"spec": "spec"}),
    "ConfigMap": (k8s.core.v1.ConfigMap, {"data": "data"}),
    "CustomResourceDefinition": (k8s.apiextensions.v1.CustomResourceDefinition, {"spec": "spec"}),
    "ServiceAccount": (k8s.core.v1.ServiceAccount, {}),
    "ClusterRole": (k8s.rbac.v1.ClusterRole, {"rules": "rules"}),
    "ClusterRoleBinding": (
        k8s.rbac.v1.ClusterRoleBinding,
        {"role_ref": "roleRef", "subjects": "subjects"},
    ),
    "Deployment": (k8s.apps.v1.Deployment, {"spec": "spec"}),
}
"""Typed resources for rendered kinds (Python argument ← manifest field); others are custom
resources."""


@dataclass(frozen=True)
class PlatformArgs:
    """Inputs of :class:`Platform`."""

    kind: str
    """laptop, staging or production."""
    region: str
    """The cluster's region (``local`` on the laptop)."""
    image_tag: str
    """LibreChat image tag for the custom resources."""
    operator_image: str
    """The image the operator's Deployment runs."""
    labels: dict[str, str]
    """Labels put on namespaces and custom resources."""
    env_secrets: dict[str, pulumi.Output[str]]
    """Variables for LibreChat's Secret (the five shared secrets, MONGO_URI, REDIS_URI...)."""
    kms_key_arn: pulumi.Output[str] | None = None
    """Key of the encrypted default StorageClass (cloud only)."""
    keycloak_db_host: pulumi.Output[str] | None = None
    """Aurora writer endpoint for Keycloak (cloud only)."""
    keycloak_db_password: pulumi.Output[str] | None = None
    """Keycloak's database password, a secret Output (cloud only)."""
    gateway: GatewaySettings | None = None
    """The AI gateway's settings (None: the defaults of :class:`GatewaySettings`)."""
    observability: Observability | None = None
    image_overrides: dict[str, str] = field(default_factory=dict)
    """Rows of the versions table the stack replaces (charts, the LibreChat resource)."""
    files: dict[str, Any] | None = None
    """Where LibreChat keeps files: ``{"s3": {"bucket", "region", "roleArn"}}`` (Outputs
    allowed); None: its local folder (the laptop)."""
    rag_database: RagDatabase | None = None
    """The RAG API's database (cloud only): migrated by a Job before LibreChat starts."""
    provider_keys: dict[str, pulumi.Output[str]] | None = None
    """The gateway's provider API keys by the variable its ``config.yaml`` reads (cloud only)."""
    edge: EdgeWiring | None = None
    """The region's way in (cloud only)."""


@dataclass(frozen=True)
class EdgeWiring:
    """What the region's way in needs from AWS (plain strings in tests, Outputs in a plan)."""

    certificate_arn: Any
    """The origin's ACM certificate (:class:`components.ingress.RegionalIngress`)."""
    security_groups: Any
    """The load balancer's security groups, comma-separated ids."""
    ratelimit_redis_host: Any
    """Kong's rate-limit Redis."""
    redis_auth_token: Any = None
    """Its password (a secret Output), for Kong's Secret; None in tests of plain objects."""
    controller: dict[str, Any] | None = None
    """The AWS Load Balancer Controller's chart values; None in tests of plain objects."""


@dataclass(frozen=True)
class RagDatabase:
    """Where the RAG API's database is and the credentials the migration and the API use."""

    host: pulumi.Output[str]
    """The Aurora endpoint."""
    master_user: str
    """Aurora's master user (the migration only)."""
    master_password: pulumi.Output[str]
    """Its password, a secret Output."""
    rag_password: pulumi.Output[str]
    """The RAG API's own role's password, a secret Output."""
    keycloak_password: pulumi.Output[str]
    """Keycloak's own role's password, a secret Output."""
    migrate: bool
    """True in the primary region only: there the Job makes the roles (the global database
    replicates them; a secondary forwards no DDL)."""
    """SLO rules, dashboards, scrape targets and alert routing (None: none of them)."""


class _Manifest(pulumi.CustomResource):
    """A custom resource whose fields are not under ``spec`` (Kong's ``KongClusterPlugin``:
    ``plugin``, ``config``), which ``k8s.apiextensions.CustomResource`` cannot carry: registered
    as that class registers one (type ``kubernetes:<apiVersion>:<kind>``, the manifest's fields
    as inputs), so the Kubernetes provider applies the manifest as is."""

    def __init__(self, name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        version = pulumi.ResourceOptions(version=importlib.metadata.version("pulumi_kubernetes"))
        super().__init__(
            f"kubernetes:{manifest['apiVersion']}:{manifest['kind']}",
            name,
            dict(manifest),
            pulumi.ResourceOptions.merge(opts, version),
        )


_MONITORING_KINDS = ("PrometheusRule", "ServiceMonitor", "PodMonitor")
"""Custom resources of kube-prometheus-stack's CRDs: created once its release is installed."""


class Platform(pulumi.ComponentResource):
    """Namespaces, policies, secrets, Helm releases and the LibreChat custom resources."""

    ingress_hostname: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("librechat:platform:Platform", name, None, opts)
        labels = {k.replace(":", "-"): v for k, v in args.labels.items()}
        objects = rendered_objects(
            kind=args.kind,
            region=args.region,
            image_tag=args.image_tag,
            labels=labels,
            kms_key_arn=None,
            gateway=args.gateway,
            slo_env=args.observability.slo_env if args.observability else args.kind,
            operator_image=args.operator_image,
            image_overrides=args.image_overrides,
            files=args.files,
            rag=args.rag_database is not None,
            provider_keys=args.provider_keys is not None,
            edge=args.edge,
        )
        first = ("Namespace", "CustomResourceDefinition")
        namespaces = [self._create(name, o) for o in objects if o["kind"] in first]
        edge = [o for o in objects if o["kind"] == "Service"]  # made once its controller runs
        plain = [o for o in objects if o["kind"] not in (*first, "LibreChat", "Service")]
        created = [self._create(name, o, namespaces) for o in plain]
        if args.rag_database is not None:
            created.append(self._rag_database(name, args, args.rag_database, namespaces, labels))
        crs = [o for o in objects if o["kind"] == "LibreChat"]
        created += [self._create(name, o, namespaces + created) for o in crs]
        if args.kms_key_arn is not None:
            self._storage_class(name, args.kms_key_arn)
        self._secrets(name, args, namespaces)
        alerting = self._alertmanager_secret(name, args, namespaces)
        releases = self._releases(name, args, namespaces, alerting)
        if args.observability is not None:
            self._monitoring(name, args, args.observability, namespaces, releases)
        # The load balancer is the controller's work, in front of Kong's pods: the Service
        # waits for both releases (Pulumi then waits for its load balancer's host name).
        self.ingress_hostname = None
        for obj in edge:
            after = [*namespaces, releases["aws-load-balancer-controller"], releases["kong"]]
            service = self._create(name, obj, after)
            assert isinstance(service, k8s.core.v1.Service)
            self.ingress_hostname = service.status.apply(_lb_hostname)
        self.register_outputs({})

    def _create(
        self, name: str, obj: dict[str, Any], deps: list[pulumi.Resource] | None = None
    ) -> pulumi.Resource:
        """One typed resource per rendered object."""
        meta = obj["metadata"]
        scope = f"{meta['namespace']}-" if "namespace" in meta else ""
        rname = f"{name}-{obj['kind'].lower()}-{scope}{meta['name']}"
        opts = child_opts(self, depends_on=deps or [])
        kind = obj["kind"]
        if kind in _TYPED:
            ctor, fields = _TYPED[kind]
            args = {arg: obj[key] for arg, key in fields.items()}
            resource: pulumi.Resource = ctor(rname, metadata=meta, opts=opts, **args)
            return resource
        if "spec" not in obj:
            return _Manifest(rname, obj, opts)
        return k8s.apiextensions.CustomResource(
            rname,
            api_version=obj["apiVersion"],
            kind=kind,
            metadata=meta,
            spec=obj["spec"],
            opts=opts,
        )

    def _rag_database(
        self,
        name: str,
        args: PlatformArgs,
        database: RagDatabase,
        deps: list[pulumi.Resource],
        labels: dict[str, str],
    ) -> pulumi.Resource:
        """The RAG API's Secret and, in the primary region, the migration's own Secret and the
        Job, which the LibreChat resource waits for (Pulumi waits for a Job to complete)."""
        keys = {
            rag_db.RAG_SECRET: rag_db.rag_secret_keys(database.host, database.rag_password),
        }
        if database.migrate:
            keys[rag_db.MIGRATION_SECRET] = rag_db.migration_secret_keys(
                database.host,
                database.master_user,
                database.master_password,
                database.rag_password,
                database.keycloak_password,
            )
        secrets = [
            k8s.core.v1.Secret(
                f"{name}-secret-{APP_NAMESPACE}-{secret_name}",
                metadata={"name": secret_name, "namespace": APP_NAMESPACE},
                type="Opaque",
                string_data={k: _secret(pulumi.Output.from_input(v)) for k, v in data.items()},
                opts=child_opts(self, depends_on=deps),
            )
            for secret_name, data in keys.items()
        ]
        if not database.migrate:
            return secrets[0]
        job = rag_migration(images.with_overrides(args.image_overrides), labels)
        return k8s.batch.v1.Job(
            f"{name}-job-{APP_NAMESPACE}-{rag_db.JOB_NAME}",
            metadata=job["metadata"],
            spec=job["spec"],
            opts=child_opts(self, depends_on=[*deps, *secrets]),
        )

    def _storage_class(self, name: str, key: pulumi.Output[str]) -> None:
        """The encrypted default StorageClass; its key ARN is only known at deployment."""
        manifest = key.apply(encrypted_storage_class)
        k8s.storage.v1.StorageClass(
            f"{name}-storageclass-gp3-encrypted",
            metadata=manifest.apply(lambda m: m["metadata"]),
            provisioner="ebs.csi.aws.com",
            parameters=manifest.apply(lambda m: m["parameters"]),
            allow_volume_expansion=True,
            volume_binding_mode="WaitForFirstConsumer",
            reclaim_policy="Retain",
            opts=child_opts(self),
        )

    def _releases(
        self,
        name: str,
        args: PlatformArgs,
        deps: list[pulumi.Resource],
        alerting: pulumi.Resource | None,
    ) -> dict[str, k8s.helm.v3.Release]:
        """Every Helm release by name. kube-prometheus-stack comes first (with its Alertmanager
        configuration Secret, when there is one): Kong's chart renders its ServiceMonitor only
        where the monitoring CRDs exist."""
        specs = platform_releases(
            kind=args.kind,
            region=args.region,
            storage_class="gp3-encrypted" if args.kms_key_arn is not None else None,
            keycloak_db_host=None,
            alert_routing=alerting is not None,
            images=images.with_overrides(args.image_overrides),
            load_balancer_controller=args.edge.controller if args.edge else None,
        )
        releases: dict[str, k8s.helm.v3.Release] = {}
        for spec in specs:
            values: pulumi.Input[Any] = spec.values
            if spec.name == "keycloak" and args.keycloak_db_host is not None:
                values = args.keycloak_db_host.apply(partial(_with_db_host, spec.values))
            after = [*deps, *([alerting] if alerting and spec.name == RELEASE else [])]
            if spec.name == "kong" and RELEASE in releases:
                after.append(releases[RELEASE])
            releases[spec.name] = k8s.helm.v3.Release(
                f"{name}-{spec.name}",
                name=spec.name,
                namespace=spec.namespace,
                chart=spec.chart,
                version=spec.version,
                repository_opts={"repo": spec.repo} if spec.repo else None,
                values=values,
                atomic=True,
                cleanup_on_fail=True,
                timeout=900,
                opts=child_opts(self, depends_on=after),
            )
        return releases

    def _alertmanager_secret(
        self, name: str, args: PlatformArgs, deps: list[pulumi.Resource]
    ) -> pulumi.Resource | None:
        """Alertmanager's configuration (routes and the stack's receiver), a secret; None where
        no receiver is set or no Alertmanager runs (the laptop)."""
        receiver = args.observability.alert_receiver if args.observability else None
        if receiver is None or args.kind == "laptop":
            return None
        return k8s.core.v1.Secret(
            f"{name}-secret-{MONITORING_NAMESPACE}-{ALERTMANAGER_SECRET}",
            metadata={"name": ALERTMANAGER_SECRET, "namespace": MONITORING_NAMESPACE},
            type="Opaque",
            string_data={ALERTMANAGER_KEY: _secret(receiver.apply(alertmanager_yaml))},
            opts=child_opts(self, depends_on=deps),
        )

    def _monitoring(
        self,
        name: str,
        args: PlatformArgs,
        observability: Observability,
        namespaces: list[pulumi.Resource],
        releases: dict[str, k8s.helm.v3.Release],
    ) -> None:
        """The SLO rules, monitors and dashboards, once the charts that define their kinds are
        installed."""
        objects = monitoring_objects(
            args.kind,
            observability.slo_env,
            observability.slos,
            grafana=grafana_enabled(args.kind),
        )
        for obj in objects:
            after: list[pulumi.Resource] = [*namespaces]
            if obj["kind"] in _MONITORING_KINDS:
                after.append(releases[RELEASE])
            elif obj["kind"] == "KongClusterPlugin":
                after.append(releases["kong"])
            self._create(name, obj, after)

    def _secrets(self, name: str, args: PlatformArgs, deps: list[pulumi.Resource]) -> None:
        """Secrets carry secret Outputs only; their values never appear in plain text."""
        secrets = [
            (
                APP_NAMESPACE,
                SHARED_SECRET_NAME,
                {**args.env_secrets, "MEILI_HOST": pulumi.Output.secret(MEILI_HOST)},
            ),
            (
                DATA_NAMESPACE,
                "meilisearch-master-key",
                {"MEILI_MASTER_KEY": args.env_secrets["MEILI_MASTER_KEY"]},
            ),
        ]
        if args.keycloak_db_password is not None:
            secrets.append(("keycloak", "keycloak-db", {"password": args.keycloak_db_password}))
        if args.provider_keys is not None:
            secrets.append((APP_NAMESPACE, GATEWAY_KEYS_SECRET, args.provider_keys))
        if args.edge is not None and args.edge.redis_auth_token is not None:
            secrets.append(("kong", KONG_REDIS_SECRET, {"password": args.edge.redis_auth_token}))
        for ns, secret_name, data in secrets:
            k8s.core.v1.Secret(
                f"{name}-secret-{ns}-{secret_name}",
                metadata={"name": secret_name, "namespace": ns},
                type="Opaque",
                string_data={k: _secret(v) for k, v in data.items()},
                opts=child_opts(self, depends_on=deps),
            )


def _lb_hostname(status: Any) -> str:
    """The load balancer host name of a Service status (empty until provisioned)."""
    ingress = (status.load_balancer.ingress if status and status.load_balancer else None) or []
    return str(ingress[0].hostname or "") if ingress else ""

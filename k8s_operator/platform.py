"""Converge one ``LibreChat``: its ``LibreChatService`` resources, status, and safe upgrades.

The platform runs LibreChat's own API (service ``api``) and the inventory services it lists (all
of them by default): LibreChat's route pools with the API's settings, the others with their image
from the versions table (:mod:`k8s_operator.images`, rows overridden by ``spec.images``). Upgrades
across v0.8.8-rc1 are a cold hand-off: releases on either side of it must never share a Redis, so
the old API and pool pods are all stopped before a new one starts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from . import images
from .children import MANAGER, PLATFORM_LABEL, drifted, key, owner_reference
from .crds import API_VERSION
from .inventory import (
    API_SERVICE,
    BY_NAME,
    INVENTORY,
    LIBRECHAT_CONFIG_DIR,
    LIBRECHAT_IMAGE,
    LIBRECHAT_PORT,
    MONGO_CA_DIR,
    RAG_SERVICE,
    ServiceDefaults,
)
from .kube import Kube, Obj

GATEWAY = "ai-gateway"
"""The inventory service that is the AI gateway (LiteLLM)."""

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
"""The ServiceAccount annotation by which EKS hands a pod an IAM role (IRSA)."""

REDIS_BOUNDARY = "v0.8.8-rc1"
"""Releases older than this must never share a Redis with this one or newer."""

_VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$")


class HandOffInProgress(Exception):  # noqa: N818 - a state, not a failure
    """Old API pods still run; the new release waits until they are gone."""


def version_key(version: str) -> tuple[int, int, int, int, tuple[Any, ...]]:
    """Order LibreChat versions: a pre-release sorts before its release (v0.8.8-rc1 < v0.8.8)."""
    match = _VERSION.match(version)
    if match is None:
        raise ValueError(f"not a LibreChat version: {version!r}")
    pre = match[4]
    parts = tuple(int(p) if p.isdigit() else p for p in re.split(r"[.-]", pre)) if pre else ()
    return int(match[1]), int(match[2]), int(match[3]), 0 if pre else 1, parts


def crosses_redis_boundary(old: str, new: str) -> bool:
    """True when one version is older than v0.8.8-rc1 and the other is not."""
    boundary = version_key(REDIS_BOUNDARY)
    return (version_key(old) < boundary) != (version_key(new) < boundary)


def _service(body: Mapping[str, Any], name: str, spec: Obj) -> Obj:
    meta = body["metadata"]
    platform = meta["name"]
    return {
        "apiVersion": API_VERSION,
        "kind": "LibreChatService",
        "metadata": {
            "name": f"{platform}-{name}",
            "namespace": meta["namespace"],
            "labels": {
                PLATFORM_LABEL: platform,
                "app.kubernetes.io/managed-by": MANAGER,
                "app.kubernetes.io/part-of": platform,
            },
            "ownerReferences": [owner_reference("LibreChat", meta["name"], meta["uid"])],
        },
        "spec": {"platform": platform, **spec},
    }


def _librechat_settings(body: Mapping[str, Any]) -> Obj:
    """What every pool of LibreChat's API shares: fixed environment entries, Secret references,
    the configuration file and the ServiceAccount's annotations, as LibreChatService fields."""
    spec = body["spec"]
    config = {"HOST": "0.0.0.0", "PORT": str(LIBRECHAT_PORT)}
    secret_env = []
    redis = spec.get("redis")
    if redis:
        config |= _redis_settings(redis, spec.get("region"))
        secret_env.append({"name": "REDIS_URI", "secretRef": redis["urlSecretRef"]})
    for section, field, env in (
        ("mongodb", "uriSecretRef", "MONGO_URI"),
        ("meilisearch", "urlSecretRef", "MEILI_HOST"),
    ):
        if (spec.get(section) or {}).get(field):
            secret_env.append({"name": env, "secretRef": spec[section][field]})
    if (spec.get("meilisearch") or {}).get("urlSecretRef"):
        config["SEARCH"] = "true"
    if _enabled(spec, RAG_SERVICE):
        port = BY_NAME[RAG_SERVICE].port
        config["RAG_API_URL"] = f"http://{body['metadata']['name']}-{RAG_SERVICE}:{port}"
    fields: Obj = {"config": config}
    if secret_env:
        fields["secretEnv"] = secret_env
    mounts = []
    if spec.get("configRef"):
        config["CONFIG_PATH"] = f"{LIBRECHAT_CONFIG_DIR}/librechat.yaml"
        mounts.append({"name": spec["configRef"]["name"], "mountPath": LIBRECHAT_CONFIG_DIR})
    ca = (spec.get("mongodb") or {}).get("caRef")
    if ca:
        mounts.append({"name": ca["name"], "mountPath": MONGO_CA_DIR})
    if mounts:
        fields["configMaps"] = mounts
    s3 = (spec.get("files") or {}).get("s3")
    if s3:
        config["AWS_BUCKET_NAME"] = s3["bucket"]
        config["AWS_REGION"] = s3["region"]
        if s3.get("roleArn"):
            fields["serviceAccountAnnotations"] = {IRSA_ANNOTATION: s3["roleArn"]}
    return fields


def _redis_settings(redis: Mapping[str, Any], region: str | None) -> dict[str, str]:
    """LibreChat's Redis entries: on, the region's key prefix, cluster mode, ElastiCache's DNS."""
    config = {
        "USE_REDIS": "true",
        "REDIS_KEY_PREFIX": redis.get("keyPrefix") or f"librechat-{region}:",
    }
    if redis.get("cluster"):
        config["USE_REDIS_CLUSTER"] = "true"
    if redis.get("alternativeDnsLookup"):
        config["REDIS_USE_ALTERNATIVE_DNS_LOOKUP"] = "true"
    return config


def _enabled(spec: Mapping[str, Any], name: str) -> bool:
    """Whether the platform runs inventory service ``name``."""
    overrides = _overrides(spec)
    if overrides is None:
        return True
    return name in overrides and bool(overrides[name].get("enabled", True))


def _egress(spec: Mapping[str, Any], defaults: ServiceDefaults) -> list[Obj]:
    """A service's ports outside the cluster and, when the platform names one, in the stores'
    namespace."""
    rules: list[Obj] = [{"port": port} for port in defaults.egress_ports]
    stores = spec.get("storesNamespace")
    if stores:
        rules += [{"port": port, "namespace": stores} for port in defaults.egress_ports]
    return rules


def _own_secret(spec: Mapping[str, Any], service: str) -> str | None:
    """The Secret a service reads whole: the RAG API's database, the gateway's provider keys."""
    section, field = {
        RAG_SERVICE: ("rag", "databaseSecretRef"),
        GATEWAY: ("gateway", "keysSecretRef"),
    }.get(service, ("", ""))
    name = ((spec.get(section) or {}).get(field) or {}).get("name") if section else None
    return str(name) if name else None


def _pool_spec(
    body: Mapping[str, Any], defaults: ServiceDefaults, version: str, replicas: Mapping[str, Any]
) -> Obj:
    """A pool of LibreChat's API image at ``version`` with the platform's LibreChat settings."""
    spec = body["spec"]
    return {
        "public": True,
        "egress": _egress(spec, defaults),
        "image": f"{spec.get('image') or LIBRECHAT_IMAGE}:{version}",
        "port": defaults.port,
        "tier": defaults.tier,
        "minReplicas": int(replicas.get("minReplicas", defaults.min_replicas)),
        "maxReplicas": int(replicas.get("maxReplicas", defaults.max_replicas)),
        "envFromSecret": spec["secretsRef"]["name"],
        "writablePaths": list(defaults.writable),
        **_librechat_settings(body),
    }


def api_service(body: Mapping[str, Any], version: str, *, stopped: bool = False) -> Obj:
    """LibreChat's own API as a service of the platform (``stopped``: zero replicas)."""
    spec = body["spec"]
    service_spec = _pool_spec(body, API_SERVICE, version, spec.get("api") or {})
    service_spec |= {"public": True, "slo": {"p99LatencyMs": 50, "availability": "99.9"}}
    if stopped:
        service_spec |= {"minReplicas": 0, "replicas": 0}
    return _service(body, API_SERVICE.name, service_spec)


def _overrides(spec: Mapping[str, Any]) -> dict[str, Any] | None:
    listed = spec.get("services")
    return None if listed is None else {s["name"]: s for s in listed}


def inventory_services(
    body: Mapping[str, Any], version: str | None = None, *, stopped: bool = False
) -> list[Obj]:
    """The inventory services the platform asks for, with their overrides; LibreChat's route
    pools run ``version`` (the spec's by default), with zero replicas when ``stopped``."""
    spec = body["spec"]
    platform = body["metadata"]["name"]
    overrides = _overrides(spec)
    table = images.with_overrides(spec.get("images") or {})
    result = []
    for defaults in INVENTORY:
        if overrides is not None and defaults.name not in overrides:
            continue
        override = (overrides or {}).get(defaults.name, {})
        if not override.get("enabled", True):
            continue
        if defaults.route_pool:
            service_spec = _pool_spec(body, defaults, version or spec["version"], override)
            if override.get("image"):
                service_spec["image"] = override["image"]
            if stopped:
                service_spec |= {"minReplicas": 0, "replicas": 0}
        else:
            assert defaults.image is not None
            service_spec = {
                "image": override.get("image") or table[defaults.image].ref,
                "port": defaults.port,
                "tier": defaults.tier,
                "minReplicas": int(override.get("minReplicas", defaults.min_replicas)),
                "maxReplicas": int(override.get("maxReplicas", defaults.max_replicas)),
                "probe": {"path": defaults.probe_path, "periodSeconds": 10},
                "config": {k: v.format(platform=platform) for k, v in defaults.config.items()},
                "writablePaths": list(defaults.writable),
                "egress": _egress(spec, defaults),
            }
            if defaults.args:
                service_spec["args"] = list(defaults.args)
            if defaults.config_maps:
                service_spec["configMaps"] = [
                    {"name": name, "mountPath": path} for name, path in defaults.config_maps
                ]
            own = _own_secret(spec, defaults.name)
            if own:
                service_spec["envFromSecret"] = own
            if defaults.secret_keys:
                shared = spec["secretsRef"]["name"]
                service_spec["secretEnv"] = [
                    {"name": key, "secretRef": {"name": shared, "key": key}}
                    for key in defaults.secret_keys
                ]
        result.append(_service(body, defaults.name, service_spec))
    return result


def _stopped_pools(body: Mapping[str, Any], version: str) -> list[Obj]:
    """Every pool of LibreChat's API at ``version`` with zero replicas (a cold hand-off)."""
    pools = [
        s
        for s in inventory_services(body, version, stopped=True)
        if BY_NAME[s["metadata"]["name"].removeprefix(f"{body['metadata']['name']}-")].route_pool
    ]
    return [api_service(body, version, stopped=True), *pools]


def converge(kube: Kube, body: Mapping[str, Any]) -> Obj:
    """Apply the platform's services (pruning those no longer wanted); returns status fields.

    Raises :class:`HandOffInProgress` while a cold hand-off waits for old API pods to stop.
    """
    meta, spec = body["metadata"], body["spec"]
    namespace, platform = meta["namespace"], meta["name"]
    target = spec["version"]
    running = (body.get("status") or {}).get("runningVersion") or target
    status: Obj = {"runningVersion": target}
    if running != target and crosses_redis_boundary(running, target):
        pods = []
        for stopped in _stopped_pools(body, running):
            kube.apply(stopped)
            name = stopped["metadata"]["name"]
            pods += kube.list("Pod", namespace, f"librechat.io/service={name}")
        if pods:
            raise HandOffInProgress(
                f"cold hand-off {running} -> {target}: waiting for {len(pods)} old LibreChat "
                "pod(s) to stop before the new release shares Redis"
            )
    wanted = [api_service(body, target), *inventory_services(body)]
    for desired in wanted:
        kind, name = key(desired)
        if drifted(kube.get(kind, namespace, name), desired):
            kube.apply(desired)
    names = {d["metadata"]["name"] for d in wanted}
    for existing in kube.list("LibreChatService", namespace, f"{PLATFORM_LABEL}={platform}"):
        if existing["metadata"]["name"] not in names and _owned_by(existing, meta["uid"]):
            kube.delete("LibreChatService", namespace, existing["metadata"]["name"])
    status["services"] = len(wanted)
    return status


def restore_service(
    kube: Kube, body: Mapping[str, Any], service: Mapping[str, Any], *, gone: bool
) -> bool:
    """One of the platform's services changed (or was deleted, ``gone``): re-apply it if it is
    not what the platform wants."""
    version = (body.get("status") or {}).get("runningVersion") or body["spec"]["version"]
    wanted = {
        d["metadata"]["name"]: d
        for d in [api_service(body, version), *inventory_services(body, version)]
    }
    desired = wanted.get(service["metadata"]["name"])
    if desired is None or not (gone or drifted(dict(service), desired)):
        return False
    kube.apply(desired)
    return True


def _owned_by(obj: Obj, uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])


def readiness(kube: Kube, body: Mapping[str, Any]) -> tuple[int, int]:
    """(ready services, all services) of the platform."""
    meta = body["metadata"]
    services = kube.list("LibreChatService", meta["namespace"], f"{PLATFORM_LABEL}={meta['name']}")
    ready = sum(
        1
        for s in services
        if any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (s.get("status") or {}).get("conditions") or []
        )
    )
    return ready, len(services)

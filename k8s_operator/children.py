"""The children of a ``LibreChatService``, built as plain dicts by pure functions.

ServiceAccount, ConfigMap, Deployment, Service, PodDisruptionBudget, and two NetworkPolicies (a
default deny for the service's pods and the allows it needs). Pods pass Pod Security ``restricted``
and spread over zones. Every child carries an owner reference to the service, so deleting the
service deletes them (the garbage collector does it: no finalizer).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kubernetes.utils import parse_quantity

from .crds import API_VERSION
from .model import ServiceSpec

MANAGER = "librechat-operator"
SERVICE_LABEL = "librechat.io/service"
PLATFORM_LABEL = "librechat.io/platform"
CHECKSUM_ANNOTATION = "librechat.io/config-checksum"

Obj = dict[str, Any]


def selector(svc: ServiceSpec) -> dict[str, str]:
    """The labels that select the service's pods."""
    return {SERVICE_LABEL: svc.name}


def selector_string(svc: ServiceSpec) -> str:
    """:func:`selector` as the scale subresource's label selector string."""
    return ",".join(f"{k}={v}" for k, v in selector(svc).items())


def labels(svc: ServiceSpec) -> dict[str, str]:
    """Labels on every child and pod."""
    result = {
        "app.kubernetes.io/name": svc.name,
        "app.kubernetes.io/managed-by": MANAGER,
        "app.kubernetes.io/component": f"tier-{svc.tier}",
        **selector(svc),
    }
    if svc.platform:
        result["app.kubernetes.io/part-of"] = svc.platform
        result[PLATFORM_LABEL] = svc.platform
    return result


RESTRICTED_CONTAINER: Obj = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}
"""A container security context that passes Pod Security ``restricted`` (every container the
operator runs uses it)."""


def owner_reference(kind: str, name: str, uid: str) -> Obj:
    """The controller reference a child carries: deleting the owner deletes the child."""
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _meta(svc: ServiceSpec, name: str, **extra: Any) -> Obj:
    return {
        "name": name,
        "namespace": svc.namespace,
        "labels": labels(svc),
        "ownerReferences": [owner_reference("LibreChatService", svc.name, svc.uid)],
        **extra,
    }


def config_checksum(svc: ServiceSpec) -> str:
    """A digest of the configuration: it changes exactly when the ConfigMap's data does."""
    return hashlib.sha256(json.dumps(dict(svc.config), sort_keys=True).encode()).hexdigest()


def service_account(svc: ServiceSpec) -> Obj:
    extra = (
        {"annotations": dict(svc.service_account_annotations)}
        if svc.service_account_annotations
        else {}
    )
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(svc, svc.name, **extra),
        "automountServiceAccountToken": False,
    }


def config_map(svc: ServiceSpec) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(svc, f"{svc.name}-config"),
        "data": dict(svc.config),
    }


def _container(svc: ServiceSpec) -> Obj:
    probe = {
        "httpGet": {"path": svc.probe_path, "port": "http"},
        "periodSeconds": svc.probe_period,
    }
    env_from: list[Obj] = [{"configMapRef": {"name": f"{svc.name}-config"}}]
    if svc.env_from_secret:
        env_from.append({"secretRef": {"name": svc.env_from_secret}})
    container: Obj = {
        "name": svc.name,
        "image": svc.image,
        "ports": [{"name": "http", "containerPort": svc.port, "protocol": "TCP"}],
        "envFrom": env_from,
        "readinessProbe": probe,
        "livenessProbe": {**probe, "failureThreshold": 6},
        "resources": dict(svc.resources),
        "securityContext": dict(RESTRICTED_CONTAINER),
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            *(
                {"name": f"writable-{i}", "mountPath": path}
                for i, path in enumerate(svc.writable_paths)
            ),
            *(
                {"name": f"config-{i}", "mountPath": path, "readOnly": True}
                for i, (_, path) in enumerate(svc.config_maps)
            ),
        ],
    }
    if svc.args:
        container["args"] = list(svc.args)
    if svc.secret_env:
        container["env"] = [
            {"name": name, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}
            for name, ref in svc.secret_env
        ]
    return container


def _volumes(svc: ServiceSpec) -> list[Obj]:
    """``/tmp`` and the writable paths as empty directories, then the mounted ConfigMaps."""
    return [
        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
        *(
            {"name": f"writable-{i}", "emptyDir": {"sizeLimit": "1Gi"}}
            for i in range(len(svc.writable_paths))
        ),
        *(
            {"name": f"config-{i}", "configMap": {"name": name}}
            for i, (name, _) in enumerate(svc.config_maps)
        ),
    ]


def deployment(svc: ServiceSpec) -> Obj:
    pod_labels = labels(svc)
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector(svc)},
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(svc, svc.name),
        "spec": {
            "replicas": svc.desired_replicas,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": selector(svc)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"},
            },
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    "annotations": {CHECKSUM_ANNOTATION: config_checksum(svc)},
                },
                "spec": {
                    "serviceAccountName": svc.name,
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "fsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "topologySpreadConstraints": spread,
                    **svc.placement(),
                    "containers": [_container(svc)],
                    "volumes": _volumes(svc),
                },
            },
        },
    }


def service(svc: ServiceSpec) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(svc, svc.name),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(svc),
            "ports": [{"name": "http", "port": svc.port, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def disruption_budget(svc: ServiceSpec) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(svc, svc.name),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(svc)}},
    }


def default_deny(svc: ServiceSpec) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(svc, f"{svc.name}-default-deny"),
        "spec": {
            "podSelector": {"matchLabels": selector(svc)},
            "policyTypes": ["Ingress", "Egress"],
        },
    }


def allow(svc: ServiceSpec) -> Obj:
    """What the service needs: its port from the platform's pods (from anywhere when public),
    DNS, the platform's pods as destinations, and its own egress (stores, providers)."""
    peers: list[Obj] = (
        [{"podSelector": {"matchLabels": {PLATFORM_LABEL: svc.platform}}}]
        if svc.platform
        else [{"podSelector": {}}]
    )
    ingress_from: list[Obj] = [] if svc.public else peers
    ingress: Obj = {"ports": [{"port": svc.port, "protocol": "TCP"}]}
    if ingress_from:
        ingress["from"] = ingress_from
    dns = {
        "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
    }
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(svc, f"{svc.name}-allow"),
        "spec": {
            "podSelector": {"matchLabels": selector(svc)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [ingress],
            "egress": [dns, {"to": peers}, *_egress(svc)],
        },
    }


def _egress(svc: ServiceSpec) -> list[Obj]:
    """The service's own egress rules: a port in a namespace, or outside the cluster."""
    rules = []
    for port, namespace in svc.egress:
        to = (
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}
            if namespace
            else {"ipBlock": {"cidr": "0.0.0.0/0"}}
        )
        rules.append({"to": [to], "ports": [{"port": port, "protocol": "TCP"}]})
    return rules


def children(svc: ServiceSpec) -> list[Obj]:
    """Every child, in apply order (the ServiceAccount and ConfigMap before the pods need them)."""
    return [
        service_account(svc),
        config_map(svc),
        default_deny(svc),
        allow(svc),
        service(svc),
        disruption_budget(svc),
        deployment(svc),
    ]


def key(obj: Obj) -> tuple[str, str]:
    """(kind, name): a child's identity within its namespace."""
    return obj["kind"], obj["metadata"]["name"]


_QUANTITY_MAPS = ("requests", "limits")
"""The maps under a container's ``resources`` whose values are quantities, which the API server
rewrites in canonical form (``1000m`` is stored as ``1``, ``0.5`` as ``500m``)."""


def same_quantity(actual: Any, desired: Any) -> bool:
    """True when two resource quantities are equal in value (``1000m`` and ``1``)."""
    try:
        return bool(parse_quantity(actual) == parse_quantity(desired))
    except (ValueError, TypeError):
        return bool(actual == desired)


def contains(actual: Any, desired: Any, parent: str = "", quantities: bool = False) -> bool:
    """True when ``actual`` has every value of ``desired`` (the server may add defaults).

    Dicts compare key by key (an empty value matches an absent key: the server drops empty maps),
    lists element by element (same length), scalars by equality or equal string forms, and the
    values of ``resources.requests`` and ``resources.limits`` as quantities. ``parent`` is the
    key ``desired`` sits under.
    """
    if isinstance(desired, dict):
        return isinstance(actual, dict) and all(
            contains(
                actual[k],
                v,
                parent=k,
                quantities=quantities or (parent == "resources" and k in _QUANTITY_MAPS),
            )
            if k in actual
            else v in ({}, [], None)
            for k, v in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(desired)
            and all(contains(a, d, parent) for a, d in zip(actual, desired, strict=True))
        )
    if quantities:
        return same_quantity(actual, desired)
    return actual == desired or str(actual) == str(desired)


def drifted(actual: Obj | None, desired: Obj, *, spec_matched: bool = False) -> bool:
    """True when the live object is missing or differs from what the operator wants.
    ``spec_matched``: the caller knows the live spec is one found matching before (its
    generation has not moved since), so only the labels and owner references are compared."""
    if actual is None:
        return True
    wanted = {k: v for k, v in desired.items() if k not in ("apiVersion", "kind", "metadata")}
    meta = desired["metadata"]
    live_meta = actual.get("metadata", {})
    return not (
        (spec_matched or contains(actual, wanted))
        and contains(live_meta.get("labels", {}), meta.get("labels", {}))
        and contains(live_meta.get("ownerReferences", []), meta.get("ownerReferences", []))
    )

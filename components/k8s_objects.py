"""Plain-dict Kubernetes objects of the in-cluster platform: namespaces and network policies.

What belongs here: pure functions returning manifests as dicts, so tests (and, later, a
server-side dry-run against the local platform's API server) can get every object without Pulumi.
"""

from __future__ import annotations

from typing import Any

APP_NAMESPACE = "librechat"
"""LibreChat and its services."""
DATA_NAMESPACE = "librechat-data"
"""In-cluster stores: Meilisearch, TimescaleDB, EventStore (laptop: MongoDB, Redis, PostgreSQL)."""
OPERATOR_NAMESPACE = "librechat-system"
"""The LibreChat operator."""
MONITORING_NAMESPACE = "monitoring"
"""kube-prometheus-stack."""

PRIVILEGED_NAMESPACES = {
    MONITORING_NAMESPACE: "prometheus-node-exporter needs hostNetwork, hostPID and hostPath",
}
"""Namespaces that cannot enforce Pod Security ``restricted``, and why (they warn/audit it)."""

INGRESS_FROM = {
    APP_NAMESPACE: ("kong", MONITORING_NAMESPACE),
    DATA_NAMESPACE: (APP_NAMESPACE, "keycloak", MONITORING_NAMESPACE),
    "keycloak": ("kong", APP_NAMESPACE, MONITORING_NAMESPACE),
    "kong": (MONITORING_NAMESPACE,),
    "cert-manager": (MONITORING_NAMESPACE,),
    OPERATOR_NAMESPACE: (MONITORING_NAMESPACE,),
    MONITORING_NAMESPACE: (),
}
"""Namespace -> the namespaces whose pods may open connections to it."""

WORLD_INGRESS = ("kong", "cert-manager")
"""Namespaces reachable from outside the cluster (the proxy; cert-manager's webhook)."""

WORLD_EGRESS = {
    APP_NAMESPACE: (443, 27017, 6379, 5432, 9098),
    DATA_NAMESPACE: (443,),
    "keycloak": (443, 5432),
    "kong": (443,),
    "cert-manager": (443, 6443),
    OPERATOR_NAMESPACE: (443, 6443),
    MONITORING_NAMESPACE: (443, 6443, 9100, 10250),
}
"""Namespace -> TCP ports its pods may reach outside the cluster (APIs, managed stores, kubelet)."""


def platform_namespaces(kind: str) -> list[str]:
    """Namespaces of an environment; the laptop has no Kong, Keycloak or cert-manager."""
    base = [APP_NAMESPACE, DATA_NAMESPACE, OPERATOR_NAMESPACE, MONITORING_NAMESPACE]
    return base if kind == "laptop" else [*base, "kong", "keycloak", "cert-manager"]


def namespace(name: str, labels: dict[str, str]) -> dict[str, Any]:
    """A Namespace labelled for Pod Security admission (``restricted`` unless listed above)."""
    level = "privileged" if name in PRIVILEGED_NAMESPACES else "restricted"
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {
                **labels,
                "pod-security.kubernetes.io/enforce": level,
                "pod-security.kubernetes.io/enforce-version": "latest",
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/audit": "restricted",
            },
        },
    }


def _policy(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def _from_namespace(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def network_policies(ns: str, present: list[str]) -> list[dict[str, Any]]:
    """Default-deny for ``ns`` plus the narrow allowances of the tables above."""
    policies = [
        _policy(ns, "default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        _policy(
            ns,
            "allow-dns",
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                **_from_namespace("kube-system"),
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        ),
    ]
    peers = [_from_namespace(ns)] + [_from_namespace(n) for n in INGRESS_FROM[ns] if n in present]
    ingress: list[dict[str, Any]] = [{"from": peers}]
    if ns in WORLD_INGRESS:
        ingress.append({"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]})
    policies.append(
        _policy(
            ns, "allow-ingress", {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": ingress}
        )
    )
    targets = [_from_namespace(ns)] + [
        _from_namespace(other) for other in present if ns in INGRESS_FROM[other]
    ]
    egress: list[dict[str, Any]] = [{"to": targets}]
    ports = WORLD_EGRESS[ns]
    if ports:
        egress.append(
            {
                "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                "ports": [{"protocol": "TCP", "port": p} for p in ports],
            }
        )
    policies.append(
        _policy(
            ns, "allow-egress", {"podSelector": {}, "policyTypes": ["Egress"], "egress": egress}
        )
    )
    return policies


def encrypted_storage_class(kms_key_arn: str) -> dict[str, Any]:
    """The default StorageClass on EKS: gp3 volumes encrypted with the region's data key."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": "gp3-encrypted",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "ebs.csi.aws.com",
        "parameters": {"type": "gp3", "encrypted": "true", "kmsKeyId": kms_key_arn},
        "allowVolumeExpansion": True,
        "volumeBindingMode": "WaitForFirstConsumer",
        "reclaimPolicy": "Retain",
    }

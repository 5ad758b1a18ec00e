"""The operator's own deployment: namespace, least-privilege RBAC, and a two-replica Deployment.

Pure data. ``librechat-ops operator install`` applies the CRDs and the RBAC (and, with
``--with-deployment``, the Deployment); ``librechat-ops operator manifests`` prints them as YAML.
The operator never reads Secrets: the workloads reference them by name.
"""

from __future__ import annotations

from typing import Any

from . import chaos_rights, headroom
from .children import RESTRICTED_CONTAINER
from .crds import GROUP
from .settings import LIVENESS_PORT, METRICS_PORT

NAMESPACE = "librechat-system"
NAME = "librechat-operator"
DEFAULT_IMAGE = "librechat-ops:0.1.0"
"""An image of this repository (Python 3.11 with ``pip install .``) that you build and push; no
image is published, so set ``--image`` to yours."""

Obj = dict[str, Any]

_APPLY = ["get", "list", "watch", "create", "patch"]
"""Server-side apply (a PATCH, or a create the first time) of children read from watches."""
_READ = ["get", "list", "watch"]


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> Obj:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


def operator_rules() -> list[Obj]:
    """Exactly what the handlers use: no wildcards, no Secrets, no update (apply is a patch);
    deleting is only for services a platform no longer lists (children go by garbage collection)."""
    return [
        _rule(
            [GROUP], ["librechats", "predictiveautoscalers", "chaosschedules"], [*_READ, "patch"]
        ),
        _rule([GROUP], ["librechatservices"], [*_APPLY, "delete"]),
        _rule(
            [GROUP],
            [
                "librechats/status",
                "librechatservices/status",
                "predictiveautoscalers/status",
                "chaosschedules/status",
                "librechatservices/scale",
            ],
            ["patch"],
        ),
        # Owner references with blockOwnerDeletion need this where the
        # OwnerReferencesPermissionEnforcement admission plugin is on (e.g. OpenShift).
        _rule(
            [GROUP],
            ["librechats/finalizers", "librechatservices/finalizers", "chaosschedules/finalizers"],
            ["update"],
        ),
        _rule(["apps"], ["deployments"], _APPLY),
        _rule([""], ["services", "configmaps", "serviceaccounts"], _APPLY),
        _rule([""], ["pods"], _READ),
        _rule(["policy"], ["poddisruptionbudgets"], _APPLY),
        _rule(["networking.k8s.io"], ["networkpolicies"], _APPLY),
        _rule(["batch"], ["cronjobs"], _APPLY),
        # A chaos run's binding: deleted when its experiment changes (a binding's role cannot).
        _rule(["rbac.authorization.k8s.io"], ["rolebindings"], [*_APPLY, "delete"]),
        {  # the one role the operator may bind: each experiment's own, nothing else
            "apiGroups": ["rbac.authorization.k8s.io"],
            "resources": ["clusterroles"],
            "verbs": ["bind"],
            "resourceNames": [r["metadata"]["name"] for r in chaos_rights.cluster_roles()],
        },
        _rule(["", "events.k8s.io"], ["events"], ["create", "patch"]),
        _rule(["apiextensions.k8s.io"], ["customresourcedefinitions"], _READ),
        _rule([""], ["namespaces"], _READ),
    ]


def rbac() -> list[Obj]:
    """Namespace, the operator's service account, role and binding, and each chaos experiment's
    ClusterRole (bound per schedule, in the schedule's namespace, by the operator)."""
    restricted = {"pod-security.kubernetes.io/enforce": "restricted"}
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": NAMESPACE, "labels": restricted},
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": NAME, "namespace": NAMESPACE},
        },
        _cluster_role(NAME, operator_rules()),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": NAME},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": NAME,
            },
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}],
        },
        *lease_rbac([NAME]),
        *chaos_rights.cluster_roles(),
        *binding_policy(),
        headroom.priority_class(),
    ]


LEASE_ROLE = f"{NAME}-lease"


def lease_rbac(accounts: list[str]) -> list[Obj]:
    """The leader election's rights, in the operator's namespace only: read and renew the one
    Lease by name, and create it the first time (a create cannot be limited by name)."""
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": LEASE_ROLE, "namespace": NAMESPACE},
            "rules": [
                {
                    "apiGroups": ["coordination.k8s.io"],
                    "resources": ["leases"],
                    "resourceNames": [NAME],
                    "verbs": ["get", "update"],
                },
                _rule(["coordination.k8s.io"], ["leases"], ["create"]),
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": LEASE_ROLE, "namespace": NAMESPACE},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": LEASE_ROLE,
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}
                for account in accounts
            ],
        },
    ]


BINDING_POLICY = "librechat-operator-binds-chaos-roles-only"


def binding_policy() -> list[Obj]:
    """An admission policy the API server enforces on the operator's own requests: the
    RoleBindings it creates or changes grant an experiment's chaos ClusterRole, nothing else.
    RBAC alone would let it bind any role whose rights it holds itself (its own, for one)."""
    roles = [r["metadata"]["name"] for r in chaos_rights.cluster_roles()]
    operator = f"system:serviceaccount:{NAMESPACE}:{NAME}"
    return [
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": BINDING_POLICY},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {
                    "resourceRules": [
                        {
                            "apiGroups": ["rbac.authorization.k8s.io"],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": ["rolebindings"],
                        }
                    ]
                },
                "matchConditions": [
                    {
                        "name": "the-operator",
                        "expression": f"request.userInfo.username == '{operator}'",
                    }
                ],
                "validations": [
                    {
                        "expression": "object.roleRef.kind == 'ClusterRole' && "
                        f"object.roleRef.name in {roles!r}".replace('"', "'"),
                        "message": "the operator may bind only the chaos experiments' ClusterRoles "
                        f"({', '.join(roles)})",
                    }
                ],
            },
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": BINDING_POLICY},
            "spec": {"policyName": BINDING_POLICY, "validationActions": ["Deny"]},
        },
    ]


def _cluster_role(name: str, rules: list[Obj]) -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": rules,
    }


def repository(image: str) -> str:
    """``image`` without its tag or digest (a registry's port is kept)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name[: len(name) - len(last)] + last.split(":", 1)[0]


def deployment(
    image: str = DEFAULT_IMAGE,
    prometheus_url: str = "http://prometheus:9090",
    slo_env: str = "laptop",
) -> Obj:
    """Two replicas on different nodes, one leading at a time (the Lease: see
    :mod:`k8s_operator.leader`), liveness probe, metrics port; the ChaosSchedule guards read the
    SLO environment ``slo_env`` (``LIBRECHAT_SLO_ENV``)."""
    labels = {"app.kubernetes.io/name": NAME}
    container = {
        "name": "operator",
        "image": image,
        "command": [
            "python",
            "-m",
            "k8s_operator",
            f"--liveness=http://0.0.0.0:{LIVENESS_PORT}/healthz",
        ],
        "env": [
            {"name": "LIBRECHAT_OPERATOR_LEADER_ELECTION", "value": "true"},
            {"name": "LIBRECHAT_OPERATOR_LEASE_NAMESPACE", "value": NAMESPACE},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "LIBRECHAT_PROMETHEUS_URL", "value": prometheus_url},
            {"name": "LIBRECHAT_SLO_ENV", "value": slo_env},
            {"name": "LIBRECHAT_OPERATOR_METRICS_HOST", "value": "0.0.0.0"},
            {"name": "LIBRECHAT_OPERATOR_METRICS_PORT", "value": str(METRICS_PORT)},
            # Chaos runs may use the operator's own image (any tag of its repository), no other.
            {"name": "LIBRECHAT_OPERATOR_CHAOS_IMAGES", "value": repository(image)},
        ],
        "ports": [
            {"name": "healthz", "containerPort": LIVENESS_PORT},
            {"name": "metrics", "containerPort": METRICS_PORT},
        ],
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "healthz"},
            "initialDelaySeconds": 10,
            "periodSeconds": 15,
        },
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"memory": "512Mi"},
        },
        "securityContext": dict(RESTRICTED_CONTAINER),
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels},
        "spec": {
            "replicas": 2,
            # One leads, one waits: a roll-out or a node loss hands over the Lease, never two
            # writers (the Lease decides who writes, not the number of pods).
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {
                    "labels": labels,
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(METRICS_PORT),
                    },
                },
                "spec": {
                    "serviceAccountName": NAME,
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": labels},
                        }
                    ],
                    "securityContext": {
                        "runAsNonRoot": True,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                },
            },
        },
    }

"""Node headroom for a PredictiveAutoscaler: pause pods that keep nodes warm for what is coming.

What belongs here: the PriorityClass the headroom runs under (negative, never preempting: the
scheduler evicts its pods the moment a service pod needs the room) and the headroom Deployment of
one ``PredictiveAutoscaler`` — pause containers with the target service's resource requests, as
many as the 30-minute forecast says the service will need beyond its replicas now. A cluster
autoscaler (Karpenter, Cluster Autoscaler) adds nodes for pending headroom pods half an hour
ahead, so the service's own pods later find warm nodes. Pure data; the loop in
:mod:`k8s_operator.autoscaling` applies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .children import MANAGER, RESTRICTED_CONTAINER
from .crds import API_VERSION
from .images import IMAGES

PRIORITY_CLASS = "librechat-headroom"
PRIORITY = -10
"""Below every workload (0 is the default): any pending pod may preempt the headroom."""
PAUSE_IMAGE = IMAGES["pause"].ref
"""The Kubernetes pause image (the infrastructure container of every pod): does nothing, costs
nothing but the requests it holds (row ``pause`` of the versions table)."""
COMPONENT_LABEL = "librechat.io/headroom-for"

Obj = dict[str, Any]


def priority_class() -> Obj:
    """Cluster-wide, installed with the operator."""
    return {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": PRIORITY_CLASS},
        "value": PRIORITY,
        "preemptionPolicy": "Never",
        "globalDefault": False,
        "description": "Headroom pause pods of the LibreChat predictive autoscaler: the first "
        "to be preempted, never preempting.",
    }


def name_of(autoscaler: str) -> str:
    """The headroom Deployment's name."""
    return f"{autoscaler}-headroom"


def deployment(
    pa: Mapping[str, Any],
    resources: Mapping[str, Any],
    replicas: int,
    placement: Mapping[str, Any] | None = None,
) -> Obj:
    """The headroom Deployment of the PredictiveAutoscaler ``pa`` (its full object), with the
    target's container ``resources`` per pod and its ``placement`` (``nodeSelector``,
    ``tolerations``: the headroom warms the node pool the service runs on, nowhere else); owned
    by ``pa`` (deleted with it)."""
    meta = pa["metadata"]
    labels = {
        COMPONENT_LABEL: meta["name"],
        "app.kubernetes.io/name": name_of(meta["name"]),
        "app.kubernetes.io/managed-by": MANAGER,
        "app.kubernetes.io/component": "headroom",
    }
    requests = dict(resources.get("requests") or {})
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name_of(meta["name"]),
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": API_VERSION,
                    "kind": "PredictiveAutoscaler",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": {
            "replicas": max(0, int(replicas)),
            "selector": {"matchLabels": {COMPONENT_LABEL: meta["name"]}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "priorityClassName": PRIORITY_CLASS,
                    **dict(placement or {}),
                    "terminationGracePeriodSeconds": 0,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "pause",
                            "image": PAUSE_IMAGE,
                            "resources": {"requests": requests, "limits": requests},
                            "securityContext": dict(RESTRICTED_CONTAINER),
                        }
                    ],
                },
            },
        },
    }

"""When a Deployment, a pod or a node counts as healthy: pure checks over client models.

What belongs here: the definitions the probes report and the waiting rollbacks wait for, in one
place so both agree. No API calls.
"""

from __future__ import annotations

from typing import Any


def _condition(obj: Any, kind: str) -> bool:
    conditions = (obj.status and obj.status.conditions) or []
    return any(c.type == kind and c.status == "True" for c in conditions)


def deployment_available(deployment: Any) -> bool:
    """The ``Available`` condition is true and every wanted replica is available (the condition
    alone tolerates ``maxUnavailable`` missing pods)."""
    wanted = deployment.spec.replicas if deployment.spec.replicas is not None else 1
    available = (deployment.status and deployment.status.available_replicas) or 0
    return _condition(deployment, "Available") and available >= wanted


def pod_running(pod: Any) -> bool:
    """Running, Ready and not being deleted."""
    phase = pod.status.phase if pod.status else None
    return (
        pod.metadata.deletion_timestamp is None and phase == "Running" and _condition(pod, "Ready")
    )


def node_ready(node: Any) -> bool:
    """The ``Ready`` condition is true and the node takes new pods (not cordoned)."""
    return _condition(node, "Ready") and not node.spec.unschedulable

"""Kubernetes probes for chaostoolkit: deployment availability, running pods, Ready nodes.

What belongs here: read-only measurements an experiment's steady-state hypothesis or method
names with ``"module": "chaos.kubernetes.probes"``. Definitions of "available", "running" and
"Ready" are in :mod:`chaos.kubernetes.readiness`.
"""

from typing import Any

from kubernetes.client.rest import ApiException

from chaos.errors import TargetNotFoundError

from . import readiness, selectors
from .client import apps, core, networking, translated

__all__ = [
    "deployment_available",
    "deployments_available",
    "network_policy_exists",
    "nodes_ready",
    "pods_running",
    "ready_replicas",
    "running_pods",
]

Configuration = dict[str, Any] | None


def _deployment(name: str, ns: str, configuration: Configuration) -> Any:
    with translated(f"deployment {name} in namespace {ns}", missing_hint="check name and `ns`"):
        return apps(configuration).read_namespaced_deployment(name, ns)


def deployment_available(name: str, ns: str, configuration: Configuration = None) -> bool:
    """True when the Deployment's ``Available`` condition holds and its available replicas
    reach ``spec.replicas``."""
    return readiness.deployment_available(_deployment(name, ns, configuration))


def ready_replicas(name: str, ns: str, configuration: Configuration = None) -> int:
    """The Deployment's ready replicas (0 when none)."""
    status = _deployment(name, ns, configuration).status
    return int((status and status.ready_replicas) or 0)


def deployments_available(
    label_selector: str, ns: str, configuration: Configuration = None
) -> bool:
    """True when at least one Deployment matches ``label_selector`` in ``ns`` and every one is
    available (see ``deployment_available``). For experiments that know a selector, not a name
    (a ``ChaosSchedule`` passes its ``targetSelector``)."""
    selectors.parse(label_selector)
    with translated(f"deployments matching {label_selector!r} in namespace {ns}"):
        items = apps(configuration).list_namespaced_deployment(ns, label_selector=label_selector)
    if not items.items:
        raise TargetNotFoundError(
            f"no deployments match {label_selector!r} in namespace {ns}",
            hint="the selector must match the Deployments' own labels",
        )
    return all(readiness.deployment_available(d) for d in items.items)


def running_pods(label_selector: str, ns: str, configuration: Configuration = None) -> int:
    """How many pods matching ``label_selector`` in ``ns`` are Running, Ready and not being
    deleted."""
    selectors.parse(label_selector)
    with translated(f"pods matching {label_selector!r} in namespace {ns}"):
        pods = core(configuration).list_namespaced_pod(ns, label_selector=label_selector).items
    return sum(1 for p in pods if readiness.pod_running(p))


def pods_running(
    label_selector: str, ns: str, min_count: int = 1, configuration: Configuration = None
) -> bool:
    """True when at least ``min_count`` pods matching ``label_selector`` in ``ns`` are Running
    and Ready and every other matching pod (not being deleted) is too."""
    selectors.parse(label_selector)
    with translated(f"pods matching {label_selector!r} in namespace {ns}"):
        pods = core(configuration).list_namespaced_pod(ns, label_selector=label_selector).items
    live = [p for p in pods if p.metadata.deletion_timestamp is None]
    return len(live) >= min_count and all(readiness.pod_running(p) for p in live)


def nodes_ready(label_selector: str = "", configuration: Configuration = None) -> int:
    """How many nodes (matching ``label_selector``, or all) are Ready and schedulable. Needs
    the right to list nodes (cluster-wide)."""
    if label_selector:
        selectors.parse(label_selector)
    with translated("nodes"):
        items = core(configuration).list_node(label_selector=label_selector).items
    return sum(1 for n in items if readiness.node_ready(n))


def network_policy_exists(ns: str, name: str, configuration: Configuration = None) -> bool:
    """True when the NetworkPolicy ``name`` exists in ``ns`` (e.g. ``deny_traffic``'s)."""
    with translated(f"network policy {name} in namespace {ns}"):
        try:
            networking(configuration).read_namespaced_network_policy(name, ns)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
    return True

"""Kubernetes faults for chaostoolkit: kill pods, scale, cordon or delete nodes, cut traffic.

What belongs here: the actions (and the rollbacks that undo them) an experiment names with
``"module": "chaos.kubernetes.actions"``. Each takes ``configuration`` (for ``kubeconfig_path``,
see :mod:`chaos.kubernetes.client`) and returns what it did, which the journal records.

Rights: pods, deployments (and their scale) and network policies are namespaced, which a
``ChaosSchedule``'s ServiceAccount has in its own namespace; nodes are cluster-wide, so
``cordon_nodes``, ``delete_nodes`` and ``restore_nodes`` run only as a cluster admin (by hand or
from ``librechat-ops verify``), never from a schedule.
"""

import hashlib
import math
import random
import re
import time
from typing import Any

from kubernetes.client.rest import ApiException

from chaos.errors import ChaosError, TargetNotFoundError

from . import nodestate, readiness, selectors
from .client import apps, core, networking, translated

__all__ = [
    "allow_traffic",
    "cordon_nodes",
    "delete_nodes",
    "deny_traffic",
    "restore_nodes",
    "scale_deployment",
    "terminate_pods",
    "uncordon_nodes",
    "wait_for_deployments",
]

Configuration = dict[str, Any] | None


def _missing_namespace(api: Any, ns: str) -> bool:
    """True only when the namespace is known not to exist (a schedule may not read namespaces)."""
    try:
        api.read_namespace(ns)
    except ApiException as exc:
        return bool(exc.status == 404)
    return False


def _pods(api: Any, label_selector: str, ns: str) -> list[Any]:
    selectors.parse(label_selector)
    with translated(f"pods matching {label_selector!r} in namespace {ns}"):
        pods = api.list_namespaced_pod(ns, label_selector=label_selector).items
    live = [p for p in pods if p.metadata.deletion_timestamp is None]
    if not live:
        with translated(f"namespace {ns}"):
            if _missing_namespace(api, ns):
                raise TargetNotFoundError(f"namespace {ns} does not exist", hint="check `ns`")
        raise TargetNotFoundError(
            f"no pods match {label_selector!r} in namespace {ns}",
            hint="check the selector against `kubectl get pods --show-labels -n " + ns + "`",
        )
    return live


def terminate_pods(
    label_selector: str,
    ns: str,
    fraction: float = 0.1,
    grace_period_s: int = 0,
    seed: int | None = None,
    configuration: Configuration = None,
) -> list[str]:
    """Delete ``fraction`` of the pods matching ``label_selector`` in ``ns`` (rounded down, at
    least one), chosen at random (``seed`` makes the choice repeatable); returns their names.

    Their controllers replace them: nothing to roll back, but a rollback can wait for the
    replacements with ``wait_for_deployments``."""
    if not 0 < fraction <= 1:
        raise ChaosError(f"fraction must be in (0, 1], not {fraction}", hint="0.1 kills 10 %")
    api = core(configuration)
    names = sorted(p.metadata.name for p in _pods(api, label_selector, ns))
    count = max(1, math.floor(round(len(names) * fraction, 6)))
    victims = sorted(random.Random(seed).sample(names, count))
    for name in victims:
        with translated(f"pod {name} in namespace {ns}"):
            try:
                api.delete_namespaced_pod(name, ns, grace_period_seconds=grace_period_s)
            except ApiException as exc:
                if exc.status != 404:  # gone meanwhile: it is terminated all the same
                    raise
    return victims


def scale_deployment(name: str, ns: str, replicas: int, configuration: Configuration = None) -> int:
    """Set the Deployment's replicas through its scale subresource; returns the previous count
    (the rollback scales back to the experiment's configured count)."""
    if replicas < 0:
        raise ChaosError(f"replicas must be 0 or more, not {replicas}")
    api = apps(configuration)
    with translated(f"deployment {name} in namespace {ns}"):
        previous = int(api.read_namespaced_deployment_scale(name, ns).spec.replicas or 0)
        api.patch_namespaced_deployment_scale(name, ns, {"spec": {"replicas": replicas}})
    return previous


def wait_for_deployments(
    label_selector: str, ns: str, timeout_s: float = 120.0, configuration: Configuration = None
) -> list[str]:
    """Wait until every Deployment matching ``label_selector`` in ``ns`` is available (all its
    replicas); returns their names. A rollback for faults whose controllers heal by themselves:
    the run fails if they do not within ``timeout_s``."""
    selectors.parse(label_selector)
    api = apps(configuration)
    deadline = time.monotonic() + timeout_s
    while True:
        with translated(f"deployments matching {label_selector!r} in namespace {ns}"):
            items = api.list_namespaced_deployment(ns, label_selector=label_selector).items
        if not items:
            raise TargetNotFoundError(
                f"no deployments match {label_selector!r} in namespace {ns}",
                hint="the selector must match the Deployments' own labels",
            )
        waiting = sorted(d.metadata.name for d in items if not readiness.deployment_available(d))
        if not waiting:
            return sorted(d.metadata.name for d in items)
        if time.monotonic() > deadline:
            raise ChaosError(f"deployments not available after {timeout_s:.0f} s: {waiting}")
        time.sleep(0.5)


def _nodes(api: Any, label_selector: str, names: list[str] | None) -> list[Any]:
    if not label_selector and not names:
        raise ChaosError(
            "no nodes chosen: give `label_selector` or `names`",
            hint="an empty choice would mean every node",
        )
    if names:
        found = []
        for name in names:
            with translated(f"node {name}", missing_hint="`kubectl get nodes` lists them"):
                found.append(api.read_node(name))
        return found
    selectors.parse(label_selector)
    with translated(f"nodes matching {label_selector!r}"):
        items: list[Any] = api.list_node(label_selector=label_selector).items
    if not items:
        raise TargetNotFoundError(
            f"no nodes match {label_selector!r}", hint="`kubectl get nodes --show-labels`"
        )
    return items


def _set_unschedulable(
    label_selector: str, names: list[str] | None, value: bool, configuration: Configuration
) -> list[str]:
    api = core(configuration)
    done = []
    for node in _nodes(api, label_selector, names):
        with translated(f"node {node.metadata.name}"):
            api.patch_node(node.metadata.name, {"spec": {"unschedulable": value}})
        done.append(node.metadata.name)
    return sorted(done)


def cordon_nodes(
    label_selector: str = "", names: list[str] | None = None, configuration: Configuration = None
) -> list[str]:
    """Mark the nodes matching ``label_selector`` (or named in ``names``) unschedulable; their
    pods keep running. Returns the names. Undo with ``uncordon_nodes``. Needs cluster rights."""
    return _set_unschedulable(label_selector, names, True, configuration)


def uncordon_nodes(
    label_selector: str = "", names: list[str] | None = None, configuration: Configuration = None
) -> list[str]:
    """Make the nodes matching ``label_selector`` (or named in ``names``) schedulable again;
    returns the names. Needs cluster rights."""
    return _set_unschedulable(label_selector, names, False, configuration)


def _hosts(api: Any, hosting_selector: str, hosting_ns: str) -> set[str]:
    return {p.spec.node_name for p in _pods(api, hosting_selector, hosting_ns) if p.spec.node_name}


def delete_nodes(
    label_selector: str,
    count: int = 1,
    seed: int | None = None,
    hosting_selector: str = "",
    hosting_ns: str = "",
    delete_pods: bool = True,
    state_ns: str = "default",
    configuration: Configuration = None,
) -> list[str]:
    """Delete ``count`` nodes matching ``label_selector``, chosen at random (``seed``), as if
    the machines vanished; returns their names. With ``hosting_selector`` (and
    ``hosting_ns``) only nodes running such pods are candidates, so the loss hits the workload.

    Their manifests are saved first in the ConfigMap ``chaos-deleted-nodes`` in ``state_ns``
    (see :mod:`chaos.kubernetes.nodestate`); the rollback ``restore_nodes`` recreates them.
    ``delete_pods`` also deletes the pods bound to them at once (a vanished machine runs
    nothing; otherwise the pod garbage collector removes them only after about 40 s). Refuses to
    delete the last Ready node matching ``label_selector``. Needs cluster rights."""
    if count < 1:
        raise ChaosError(f"count must be 1 or more, not {count}")
    api = core(configuration)
    nodes = {n.metadata.name: n for n in _nodes(api, label_selector, None)}
    candidates = sorted(nodes)
    if hosting_selector:
        candidates = sorted(set(candidates) & _hosts(api, hosting_selector, hosting_ns))
    if len(candidates) < count:
        raise TargetNotFoundError(
            f"{count} node(s) wanted but only {len(candidates)} match {label_selector!r}"
            + (f" and host pods {hosting_selector!r} in {hosting_ns}" if hosting_selector else ""),
            hint="lower `count` or widen the selectors",
        )
    ready = {name for name, node in nodes.items() if readiness.node_ready(node)}
    victims = sorted(random.Random(seed).sample(candidates, count))
    if not ready - set(victims):
        raise ChaosError(
            f"deleting {victims} would leave no Ready node matching {label_selector!r}",
            hint="a node loss keeps at least one node of the pool: lower `count`",
        )
    nodestate.record(api, state_ns, [nodestate.manifest(api, nodes[v]) for v in victims])
    for name in victims:
        with translated(f"node {name}"):
            api.delete_node(name)
            if delete_pods:
                bound = api.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={name}")
                for pod in bound.items:
                    try:
                        meta = pod.metadata
                        api.delete_namespaced_pod(meta.name, meta.namespace, grace_period_seconds=0)
                    except ApiException as exc:
                        if exc.status != 404:
                            raise
    return victims


def restore_nodes(
    state_ns: str = "default", timeout_s: float = 60.0, configuration: Configuration = None
) -> list[str]:
    """Recreate every node ``delete_nodes`` saved in ``state_ns`` (the rollback of a node loss)
    and wait until they are Ready; returns their names (empty: nothing was deleted). Safe to
    run again: nodes that exist are left alone. Needs cluster rights."""
    api = core(configuration)
    saved = nodestate.recorded(api, state_ns)
    for name, manifest in sorted(saved.items()):
        with translated(f"node {name}"):
            try:
                api.create_node(manifest)
            except ApiException as exc:
                if exc.status != 409:  # it exists already: restored earlier or never deleted
                    raise
    deadline = time.monotonic() + timeout_s
    while saved:
        with translated("nodes"):
            ready = {n.metadata.name for n in api.list_node().items if readiness.node_ready(n)}
        waiting = sorted(set(saved) - ready)
        if not waiting:
            break
        if time.monotonic() > deadline:
            raise ChaosError(
                f"restored nodes not Ready after {timeout_s:.0f} s: {waiting}",
                hint="the node agent (kwok locally) must take them over",
            )
        time.sleep(0.5)
    nodestate.forget(api, state_ns, sorted(saved))
    return sorted(saved)


def policy_name(label_selector: str) -> str:
    """``chaos-deny-<selector slug>-<hash>``: one policy per selector, found again by
    ``allow_traffic`` from the same arguments."""
    slug = re.sub(r"[^a-z0-9]+", "-", label_selector.lower()).strip("-")[:40].strip("-")
    digest = hashlib.sha256(label_selector.encode()).hexdigest()[:8]
    return f"chaos-deny-{slug}-{digest}" if slug else f"chaos-deny-{digest}"


def deny_traffic(ns: str, label_selector: str, configuration: Configuration = None) -> str:
    """Cut all traffic to and from the pods matching ``label_selector`` in ``ns`` with a
    default-deny NetworkPolicy (ingress and egress); returns its name. Undo with
    ``allow_traffic``.

    Enforcement is the CNI's job: a cluster whose network plugin implements NetworkPolicy drops
    the traffic. The local platform's kwok pods have no network at all, so there the policy is
    only applied (and checked to be applied), not enforced."""
    name = policy_name(label_selector)
    body = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/managed-by": "librechat-chaos"},
            "annotations": {"librechat.io/chaos-selector": label_selector},
        },
        "spec": {
            "podSelector": selectors.parse(label_selector),
            "policyTypes": ["Ingress", "Egress"],
        },
    }
    api = networking(configuration)
    with translated(f"namespace {ns}", missing_hint="check `ns`"):
        try:
            api.create_namespaced_network_policy(ns, body)
        except ApiException as exc:
            if exc.status != 409:
                raise  # 409: the same deny is in place already
    return name


def allow_traffic(ns: str, label_selector: str, configuration: Configuration = None) -> str:
    """Remove the NetworkPolicy ``deny_traffic`` made for the same ``ns`` and
    ``label_selector``; returns its name. Safe to run when it is already gone."""
    name = policy_name(label_selector)
    with translated(f"network policy {name} in namespace {ns}"):
        try:
            networking(configuration).delete_namespaced_network_policy(name, ns)
        except ApiException as exc:
            if exc.status != 404:
                raise
    return name

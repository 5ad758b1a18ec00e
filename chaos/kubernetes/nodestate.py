"""Where ``delete_nodes`` leaves what it deleted, for the rollback ``restore_nodes`` to find.

chaostoolkit does not pass an action's output to a rollback, and a run can die between the two
(the pod is OOM-killed, the laptop sleeps). So the manifests are written, *before* the nodes are
deleted, to a ConfigMap in the cluster itself: ``chaos-deleted-nodes`` in a namespace of the
caller's choice (``default`` unless told), one data key per node holding its manifest as JSON.
Any later ``restore_nodes`` (the rollback, a re-run, or an admin by hand) recreates them.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes.client.rest import ApiException

from .client import to_dict, translated

CONFIG_MAP = "chaos-deleted-nodes"
KEPT_METADATA = ("name", "labels", "annotations")


def manifest(core: Any, node: Any) -> dict[str, Any]:
    """What recreates ``node``: its name, labels, annotations, spec (taints, provider id) and its
    capacity; nothing the API server or the node's agent writes (uid, conditions...)."""
    data = to_dict(core, node)
    meta = {k: v for k, v in data["metadata"].items() if k in KEPT_METADATA}
    spec = {k: v for k, v in (data.get("spec") or {}).items() if k != "unschedulable"}
    status = {
        k: v for k, v in (data.get("status") or {}).items() if k in ("capacity", "allocatable")
    }
    return {"apiVersion": "v1", "kind": "Node", "metadata": meta, "spec": spec, "status": status}


def record(core: Any, namespace: str, manifests: list[dict[str, Any]]) -> None:
    """Add ``manifests`` to the ConfigMap (created if missing)."""
    data = {m["metadata"]["name"]: json.dumps(m, sort_keys=True) for m in manifests}
    what = f"ConfigMap {CONFIG_MAP} in namespace {namespace}"
    with translated(what, missing_hint="the state namespace must exist"):
        try:
            core.patch_namespaced_config_map(CONFIG_MAP, namespace, {"data": data})
        except ApiException as exc:
            if exc.status != 404:
                raise
            body = {
                "metadata": {
                    "name": CONFIG_MAP,
                    "labels": {"app.kubernetes.io/managed-by": "librechat-chaos"},
                },
                "data": data,
            }
            core.create_namespaced_config_map(namespace, body)


def recorded(core: Any, namespace: str) -> dict[str, dict[str, Any]]:
    """The manifests waiting to be restored, by node name (empty when there are none)."""
    with translated(f"ConfigMap {CONFIG_MAP} in namespace {namespace}"):
        try:
            config_map = core.read_namespaced_config_map(CONFIG_MAP, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return {}
            raise
    return {name: json.loads(text) for name, text in (config_map.data or {}).items()}


def forget(core: Any, namespace: str, names: list[str]) -> None:
    """Drop restored nodes from the ConfigMap; delete it once empty."""
    remaining = {k: v for k, v in recorded(core, namespace).items() if k not in names}
    with translated(f"ConfigMap {CONFIG_MAP} in namespace {namespace}"):
        if remaining:
            patch = {"data": dict.fromkeys(names)}
            core.patch_namespaced_config_map(CONFIG_MAP, namespace, patch)
        else:
            try:
                core.delete_namespaced_config_map(CONFIG_MAP, namespace)
            except ApiException as exc:
                if exc.status != 404:
                    raise

"""``ChaosSchedule`` → a CronJob that runs the chaos experiment, suspended by its SLO guard.

The guard (:mod:`k8s_operator.guard`) reads the generated burn-rate rule from Prometheus; while
the budget burns faster than ``maxBurnRate``, or the rule cannot be read, has no data, is not a
number or is stale (no chaos without knowing the budget), the CronJob is suspended; the schedule's
status says why, and an Event marks each change of verdict. Runs get the ``librechat-chaos``
rights in their own namespace only, so experiments that need cluster-wide rights
(``crds.ADMIN_ONLY_EXPERIMENTS``, e.g. node-loss) are refused by the CRD and, should an older CRD
let one through, reported ``rejected`` here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .children import MANAGER, RESTRICTED_CONTAINER, drifted, owner_reference
from .crds import ADMIN_ONLY_EXPERIMENTS
from .guard import Guard, guard_state
from .kube import Kube, Obj, OperatorError
from .settings import OperatorSettings

log = logging.getLogger("librechat.operator.chaos")

CHAOS_CLUSTER_ROLE = "librechat-chaos"
"""Installed by ``librechat-ops operator install``: the rights the experiments need. Each schedule
gets its own ServiceAccount bound to it in its namespace."""


def run_command(experiment: str, directory: str = "/experiments") -> list[str]:
    """The container's command: rollbacks always run (even when the run is interrupted or the
    hypothesis deviates), journal and log go to the writable ``/tmp`` (the root file system is
    read-only), and no version check (no egress to PyPI from a cluster)."""
    return [
        "chaos", "--no-version-check", "--log-file", "/tmp/chaostoolkit.log",
        "run", "--rollback-strategy=always", "--journal-path", "/tmp/journal.json",
        f"{directory}/{experiment}.json",
    ]  # fmt: skip


def cron_job(body: Mapping[str, Any], suspend: bool) -> Obj:
    """The CronJob for one schedule."""
    meta, spec = body["metadata"], body["spec"]
    selector = ",".join(f"{k}={v}" for k, v in spec["targetSelector"]["matchLabels"].items())
    container = {
        "name": "chaos",
        "image": spec["image"],
        "command": run_command(spec["experiment"]),
        "env": [
            {"name": "LIBRECHAT_CHAOS_NAMESPACE", "value": meta["namespace"]},
            {"name": "LIBRECHAT_CHAOS_SELECTOR", "value": selector},
        ],
        "securityContext": dict(RESTRICTED_CONTAINER),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return _owned(
        body,
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": f"chaos-{meta['name']}"},
            "spec": {
                "schedule": spec["schedule"],
                "suspend": suspend,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "spec": {
                        "backoffLimit": 0,
                        "activeDeadlineSeconds": 1800,
                        "template": {
                            "spec": {
                                "restartPolicy": "Never",
                                "serviceAccountName": f"chaos-{meta['name']}",
                                "securityContext": {
                                    "runAsNonRoot": True,
                                    "seccompProfile": {"type": "RuntimeDefault"},
                                },
                                "containers": [container],
                                "volumes": [{"name": "tmp", "emptyDir": {}}],
                            }
                        },
                    }
                },
            },
        },
    )


def _owned(body: Mapping[str, Any], obj: Obj) -> Obj:
    meta = body["metadata"]
    obj["metadata"].update(
        namespace=meta["namespace"],
        labels={"app.kubernetes.io/managed-by": MANAGER, "librechat.io/chaos": meta["name"]},
        ownerReferences=[owner_reference("ChaosSchedule", meta["name"], meta["uid"])],
    )
    return obj


def run_identity(body: Mapping[str, Any]) -> list[Obj]:
    """The runs' ServiceAccount in the schedule's namespace, bound to the chaos ClusterRole."""
    name = f"chaos-{body['metadata']['name']}"
    account: Obj = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": CHAOS_CLUSTER_ROLE,
        },
        "subjects": [
            {
                "kind": "ServiceAccount",
                "name": name,
                "namespace": body["metadata"]["namespace"],
            }
        ],
    }
    return [_owned(body, account), _owned(body, binding)]


def converge(kube: Kube, body: Mapping[str, Any], settings: OperatorSettings) -> None:
    """Apply the runs' identity and the CronJob with the guard's verdict; record the verdict in
    status when it changed (not when only the burn rate moved). An experiment that needs
    cluster-wide rights gets neither identity nor CronJob, only ``rejected`` in status."""
    experiment = body["spec"]["experiment"]
    if experiment in ADMIN_ONLY_EXPERIMENTS:  # the CRD rejects it; an older CRD may not have
        detail = f"{experiment} needs cluster-wide rights: run it as an administrator"
        _record(kube, body, Guard(True, "rejected", detail))
        return
    guard = guard_state(body["spec"], settings)
    for desired in (*run_identity(body), cron_job(body, guard.suspend)):
        meta = desired["metadata"]
        if drifted(kube.get(desired["kind"], meta["namespace"], meta["name"]), desired):
            kube.apply(desired)
    _record(kube, body, guard)


def _record(kube: Kube, body: Mapping[str, Any], guard: Guard) -> None:
    """Write a changed verdict to status, then post an Event about it. Events are auxiliary (as
    kopf's are): one that cannot be posted is logged, and the verdict stays written."""
    if (body.get("status") or {}).get("guard") == guard.verdict:
        return
    meta = body["metadata"]
    status = {"guard": guard.verdict, "guardDetail": guard.detail}
    kube.patch_status("ChaosSchedule", meta["namespace"], meta["name"], status)
    try:
        kube.event(body, type=guard.event_type, reason=guard.event_reason, message=guard.detail)
    except OperatorError as exc:
        log.warning("no Event for %s/%s (%s): %s", meta["namespace"], meta["name"], guard, exc)

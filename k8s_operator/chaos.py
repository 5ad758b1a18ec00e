"""``ChaosSchedule`` → a CronJob that runs the chaos experiment, suspended by its SLO guard.

The guard (:mod:`k8s_operator.guard`) reads the generated burn-rate rule from Prometheus; while
the budget burns faster than ``maxBurnRate``, or the rule cannot be read, has no data, is not a
number or is stale (no chaos without knowing the budget), the CronJob is suspended; the schedule's
status says why, and an Event marks each change of verdict. Runs get their experiment's own
ClusterRole (:mod:`k8s_operator.chaos_rights`) in their namespace only, or no Kubernetes rights
when the experiment needs none; experiments that need cluster-wide rights
(``crds.ADMIN_ONLY_EXPERIMENTS``, e.g. node-loss) are refused by the CRD and, should an older CRD
let one through, reported ``rejected`` here, as is an image the operator's settings do not allow.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .chaos_rights import image_allowed, role_name, rules_for
from .children import MANAGER, RESTRICTED_CONTAINER, drifted, owner_reference
from .crds import ADMIN_ONLY_EXPERIMENTS
from .guard import Guard, guard_state
from .kube import Kube, Obj, OperatorError
from .settings import OperatorSettings

log = logging.getLogger("librechat.operator.chaos")


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
                                # A token only for runs that have rights to use it with.
                                "automountServiceAccountToken": bool(rules_for(spec["experiment"])),
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
    """The runs' ServiceAccount in the schedule's namespace and, when the experiment acts on
    Kubernetes, a RoleBinding there to its experiment's ClusterRole."""
    name = f"chaos-{body['metadata']['name']}"
    account: Obj = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}
    experiment = body["spec"]["experiment"]
    if not rules_for(experiment):
        return [_owned(body, account)]
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": role_name(experiment),
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
    status when it changed (not when only the burn rate moved). A schedule it may not run (an
    experiment that needs cluster-wide rights, an image not allowed) gets no new identity or
    CronJob, its existing CronJob suspended, and ``rejected`` in status."""
    spec, meta = body["spec"], body["metadata"]
    experiment = spec["experiment"]
    if experiment in ADMIN_ONLY_EXPERIMENTS:  # the CRD rejects it; an older CRD may not have
        detail = f"{experiment} needs cluster-wide rights: run it as an administrator"
        _reject(kube, body, detail)
        return
    if not image_allowed(spec["image"], settings.chaos_images):
        allowed = ", ".join(settings.chaos_images)
        detail = (
            f"image {spec['image']} is not allowed for chaos runs (allowed: {allowed}); "
            "use one of those, or add it to LIBRECHAT_OPERATOR_CHAOS_IMAGES"
        )
        _reject(kube, body, detail)
        return
    guard = guard_state(spec, settings)
    wanted = run_identity(body)
    _drop_stale_binding(kube, meta["namespace"], f"chaos-{meta['name']}", wanted)
    for desired in (*wanted, cron_job(body, guard.suspend)):
        child = desired["metadata"]
        if drifted(kube.get(desired["kind"], child["namespace"], child["name"]), desired):
            kube.apply(desired)
    _record(kube, body, guard)


def _drop_stale_binding(kube: Kube, namespace: str, name: str, wanted: list[Obj]) -> None:
    """Delete the runs' RoleBinding when it grants another role than the one wanted (a binding's
    role cannot change: the experiment changed), or when none is wanted any more."""
    existing = kube.get("RoleBinding", namespace, name)
    if existing is None:
        return
    want = [o["roleRef"] for o in wanted if o["kind"] == "RoleBinding"]
    if want and existing.get("roleRef", {}).get("name") == want[0]["name"]:
        return
    kube.delete("RoleBinding", namespace, name)


def _reject(kube: Kube, body: Mapping[str, Any], detail: str) -> None:
    """Suspend the schedule's CronJob if it has one, and record ``rejected``."""
    meta = body["metadata"]
    name = f"chaos-{meta['name']}"
    cron = kube.get("CronJob", meta["namespace"], name)
    if cron is not None and not cron["spec"].get("suspend"):
        kube.merge_patch("CronJob", meta["namespace"], name, {"spec": {"suspend": True}})
    _record(kube, body, Guard(True, "rejected", detail))


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

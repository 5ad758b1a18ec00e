"""``ChaosSchedule`` → a CronJob that runs the chaos experiment, and its SLO guard.

The guard asks Prometheus for the error-budget burn rate; while it exceeds ``maxBurnRate`` (or
cannot be read: no chaos without knowing the budget) the CronJob is suspended, and the schedule's
status says why. Runs get the ``librechat-chaos`` rights in their own namespace only, so
experiments that need cluster-wide rights (``crds.ADMIN_ONLY_EXPERIMENTS``, e.g. node-loss) are
refused by the CRD and, should an older CRD let one through, reported ``rejected`` here.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .children import MANAGER, RESTRICTED_CONTAINER, drifted, owner_reference
from .crds import ADMIN_ONLY_EXPERIMENTS
from .kube import Kube, Obj
from .settings import OperatorSettings

CHAOS_CLUSTER_ROLE = "librechat-chaos"
"""Installed by ``librechat-ops operator install``: the rights the experiments need. Each schedule
gets its own ServiceAccount bound to it in its namespace."""


def burn_rate(prometheus_url: str, query: str, timeout: float = 5.0) -> float | None:
    """The guard query's value, or None when Prometheus cannot answer it."""
    url = f"{prometheus_url}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            result = json.load(response)["data"]["result"]
    except (OSError, ValueError, KeyError):
        return None
    if not result:
        return 0.0  # no errors recorded: nothing is burning
    try:
        return max(float(r["value"][1]) for r in result)
    except (KeyError, IndexError, ValueError):
        return None


@dataclass(frozen=True)
class Guard:
    """The guard's verdict on the next runs."""

    suspend: bool
    verdict: str
    """``open``, ``burning``, ``unknown`` (Prometheus did not answer), ``suspended`` (by spec),
    ``unguarded`` or ``rejected`` (an experiment a schedule may not run): what status reports, and
    written only when it changes."""
    detail: str
    """The numbers behind the verdict (kept with it in status)."""


def guard_state(spec: Mapping[str, Any], settings: OperatorSettings) -> Guard:
    """The verdict from the spec's own ``suspend`` and its SLO guard."""
    if spec.get("suspend"):
        return Guard(True, "suspended", "suspended by spec")
    guard = spec.get("sloGuard")
    if not guard:
        return Guard(False, "unguarded", "no SLO guard")
    rate = burn_rate(settings.prometheus_url, guard["query"])
    limit = float(guard.get("maxBurnRate", 1.0))
    if rate is None:
        return Guard(True, "unknown", "Prometheus did not answer the guard: runs skipped")
    if rate > limit:
        return Guard(True, "burning", f"error budget burning at {rate:.2f}x > {limit:.2f}x")
    return Guard(False, "open", f"burn rate {rate:.2f}x <= {limit:.2f}x")


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
    if (body.get("status") or {}).get("guard") != guard.verdict:
        meta = body["metadata"]
        status = {"guard": guard.verdict, "guardDetail": guard.detail}
        kube.patch_status("ChaosSchedule", meta["namespace"], meta["name"], status)

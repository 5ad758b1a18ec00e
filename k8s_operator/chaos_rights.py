"""What a ChaosSchedule's runs may do, and with which image: the one table of chaos rights.

Each experiment that acts on Kubernetes gets a ClusterRole of its own (``librechat-chaos-<name>``,
installed by ``librechat-ops operator install``) holding exactly what its actions and probes call;
the operator binds it in the schedule's namespace only, and may bind nothing else (its ``bind``
right names these roles). An experiment not in :data:`EXPERIMENT_RULES` acts on something other
than Kubernetes (the simulator, Toxiproxy, AWS): its runs get no Kubernetes rights and no token.
Runs use only images the operator's settings allow (:func:`image_allowed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Obj = dict[str, Any]

ROLE_PREFIX = "librechat-chaos-"
"""Each experiment's ClusterRole is this prefix and the experiment's name."""


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> Obj:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


EXPERIMENT_RULES: dict[str, tuple[Obj, ...]] = {
    # terminate_pods and pods_running / running_pods read and delete the selected pods;
    # deployments_available and wait_for_deployments read the Deployments owning them.
    "ai-gateway-pod-kill": (
        _rule([""], ["pods"], ["get", "list", "delete"]),
        _rule(["apps"], ["deployments"], ["get", "list"]),
    ),
}
"""Experiment name -> the rules its runs need in their namespace (chaos/experiments/<name>.json;
``tests/chaos/test_kubernetes_schedule.py`` runs it with exactly these)."""


def role_name(experiment: str) -> str:
    """The ClusterRole bound for ``experiment``'s runs."""
    return f"{ROLE_PREFIX}{experiment}"


def rules_for(experiment: str) -> tuple[Obj, ...]:
    """What ``experiment``'s runs may do; empty: no Kubernetes rights at all."""
    return EXPERIMENT_RULES.get(experiment, ())


def cluster_roles() -> list[Obj]:
    """One ClusterRole per experiment that acts on Kubernetes (applied by ``operator install``)."""
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": role_name(name)},
            "rules": list(rules),
        }
        for name, rules in sorted(EXPERIMENT_RULES.items())
    ]


def image_allowed(image: str, allowed: Iterable[str]) -> bool:
    """Whether ``image`` is one the settings allow: an entry is a repository (any tag or digest
    of it) or a whole reference (``repo:tag``, ``repo@sha256:...``)."""
    return any(image == entry or image.startswith((f"{entry}:", f"{entry}@")) for entry in allowed)

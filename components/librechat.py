"""The LibreChat custom resources of one region, as plain dicts (kept small and isolated).

What belongs here: only the rendering of ``librechat.io/v1alpha1`` ``LibreChat`` and
``LibreChatService`` objects that the operator (written separately, with its CRDs) reconciles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

API_VERSION = "librechat.io/v1alpha1"
"""Group/version of the operator's CRDs."""

IMAGE = "registry.librechat.ai/danny-avila/librechat"
"""LibreChat's image (DESIGN.md §1)."""


@dataclass(frozen=True)
class ServiceDefault:
    """One row of DESIGN.md §3."""

    name: str
    """Service name."""
    tier: int
    """1 core business ... 4 infrastructure."""
    min_pods: int
    """Minimum replicas."""
    max_pods: int
    """Maximum replicas."""


SERVICES = (
    ServiceDefault("identity", 1, 3, 50),
    ServiceDefault("conversation", 1, 5, 100),
    ServiceDefault("assistant", 1, 3, 30),
    ServiceDefault("file", 1, 2, 20),
    ServiceDefault("notification", 1, 2, 15),
    ServiceDefault("ai-gateway", 2, 10, 200),
    ServiceDefault("streaming", 2, 5, 50),
    ServiceDefault("search", 2, 3, 25),
    ServiceDefault("rate-limiting", 2, 3, 15),
    ServiceDefault("caching", 2, 3, 20),
    ServiceDefault("ai-orchestrator", 3, 2, 10),
    ServiceDefault("ml-pipeline", 3, 1, 5),
    ServiceDefault("vector-embedding", 3, 3, 15),
    ServiceDefault("analytics-engine", 3, 2, 8),
    ServiceDefault("event-store", 4, 3, 9),
    ServiceDefault("configuration", 4, 2, 6),
    ServiceDefault("monitoring", 4, 2, 5),
)
"""The seed's service inventory with its min-max pods (DESIGN.md §3)."""


def librechat_objects(
    *, region: str, namespace: str, image_tag: str, secret_name: str, labels: dict[str, str]
) -> list[dict[str, Any]]:
    """The region's ``LibreChat`` plus one ``LibreChatService`` per §3 service."""
    meta = {"namespace": namespace, "labels": labels}
    app = {
        "apiVersion": API_VERSION,
        "kind": "LibreChat",
        "metadata": {"name": "librechat", **meta},
        "spec": {
            "image": f"{IMAGE}:{image_tag}",
            "region": region,
            "redisKeyPrefix": f"librechat:{region}:",
            "envFromSecret": secret_name,
            "port": 3080,
            "healthPath": "/health",
        },
    }
    services = [
        {
            "apiVersion": API_VERSION,
            "kind": "LibreChatService",
            "metadata": {"name": s.name, **meta},
            "spec": {
                "libreChatRef": "librechat",
                "tier": s.tier,
                "minReplicas": s.min_pods,
                "maxReplicas": s.max_pods,
            },
        }
        for s in SERVICES
    ]
    return [app, *services]

"""The seed's service inventory (DESIGN.md §3): the operator's defaults for each service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceDefaults:
    """One service of the inventory."""

    name: str
    tier: int
    """1 core business, 2 high performance, 3 AI/ML, 4 infrastructure."""
    min_replicas: int
    max_replicas: int
    stack: str
    """What the seed builds it with (informational)."""
    port: int = 8080


INVENTORY: tuple[ServiceDefaults, ...] = (
    ServiceDefaults("identity", 1, 3, 50, ".NET 8 + Keycloak"),
    ServiceDefaults("conversation", 1, 5, 100, ".NET 8, event sourcing + CQRS"),
    ServiceDefaults("assistant", 1, 3, 30, ".NET 8, workflow engine"),
    ServiceDefaults("file", 1, 2, 20, ".NET 8 + S3"),
    ServiceDefaults("notification", 1, 2, 15, ".NET 8 + SignalR + Redis"),
    ServiceDefaults("ai-gateway", 2, 10, 200, "Go, gRPC, circuit breakers"),
    ServiceDefaults("streaming", 2, 5, 50, "Go, WebSocket/SSE"),
    ServiceDefaults("search", 2, 3, 25, "Go + Elasticsearch + vector DB"),
    ServiceDefaults("rate-limiting", 2, 3, 15, "Go + Redis"),
    ServiceDefaults("caching", 2, 3, 20, "Go + Redis Cluster"),
    ServiceDefaults("ai-orchestrator", 3, 2, 10, "Python + FastAPI + MLflow"),
    ServiceDefaults("ml-pipeline", 3, 1, 5, "Python + Kubeflow"),
    ServiceDefaults("vector-embedding", 3, 3, 15, "Rust + Candle + ONNX"),
    ServiceDefaults("analytics-engine", 3, 2, 8, "Python + Flink + Kafka"),
    ServiceDefaults("event-store", 4, 3, 9, "Go + EventStore + Kafka"),
    ServiceDefaults("configuration", 4, 2, 6, "Go + etcd + Consul"),
    ServiceDefaults("monitoring", 4, 2, 5, "Go + Prometheus + Jaeger"),
)

BY_NAME = {s.name: s for s in INVENTORY}

API_SERVICE = ServiceDefaults("api", 1, 2, 20, "LibreChat (Node.js)", port=3080)
"""LibreChat's own API + web server (``/health`` on port 3080), run next to the inventory."""

DEFAULT_SERVICE_IMAGE = "registry.librechat.ai/platform/{name}:{version}"
"""Image of an inventory service unless the LibreChat resource names another."""

LIBRECHAT_IMAGE = "registry.librechat.ai/danny-avila/librechat"
"""LibreChat's image repository; the tag is the platform's version."""

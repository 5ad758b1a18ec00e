"""The seed's service inventory (DESIGN.md §3) as real software: what the operator runs for each
service, and where each seed service that the operator does not run went, with the reason.

What belongs here: :data:`INVENTORY` (the services a ``LibreChat`` runs by default: image row,
port, arguments, probe, writable paths and fixed settings), :data:`ELSEWHERE` (the seed services
realized outside the operator, or removed) and the names both share. Images come from the versions
table (:mod:`k8s_operator.images`); LibreChat's own route pools run LibreChat's API image at the
platform's release with the platform's LibreChat settings (:mod:`k8s_operator.platform`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .images import LIBRECHAT_API_REPOSITORY

GATEWAY_CONFIG_MAP = "librechat-ai-gateway-litellm"
"""The ConfigMap with LiteLLM's ``config.yaml`` (rendered by ``components.gateway``), mounted into
the ``ai-gateway`` pods."""

LIBRECHAT_PORT = 3080
"""LibreChat's API port (``PORT``); ``/health`` answers there."""

LIBRECHAT_CONFIG_DIR = "/etc/librechat"
"""Where the ``LibreChat`` resource's ``configRef`` ConfigMap is mounted (``CONFIG_PATH`` names
its ``librechat.yaml``)."""

MONGO_CA_DIR = "/etc/librechat-mongodb-ca"
"""Where the ``LibreChat`` resource's ``mongodb.caRef`` ConfigMap is mounted."""

MONGO_CA_FILE = f"{MONGO_CA_DIR}/ca.pem"
"""The CA bundle a ``MONGO_URI`` names in ``tlsCAFile`` (the ConfigMap's key ``ca.pem``)."""

RAG_SERVICE = "ai-orchestrator"
"""The inventory service that is LibreChat's RAG API (``RAG_API_URL`` points at it)."""

LIBRECHAT_EGRESS = (443, 6379, 7700, 27017)
"""What LibreChat's API reaches: HTTPS (S3, the identity provider), Redis, Meilisearch,
MongoDB."""

LIBRECHAT_WRITABLE = ("/app/uploads", "/app/client/public/images", "/app/api/logs", "/app/data")
"""Where LibreChat's API writes (local uploads, generated images, logs, temporary credentials):
empty directories, since every pod's root filesystem is read-only."""


@dataclass(frozen=True)
class ServiceDefaults:
    """One service the operator runs."""

    name: str
    tier: int
    """1 core business, 2 high performance, 3 AI/ML, 4 infrastructure."""
    min_replicas: int
    max_replicas: int
    realized_by: str
    """The real software that serves it (the README's service table)."""
    image: str | None
    """A row of :data:`k8s_operator.images.IMAGES`; None: LibreChat's API image at the
    platform's release (a route pool)."""
    port: int = 8080
    args: tuple[str, ...] = ()
    """Arguments after the image's entrypoint."""
    probe_path: str = "/health"
    """HTTP readiness and liveness path on :attr:`port`."""
    writable: tuple[str, ...] = ()
    """Paths the process writes besides ``/tmp`` (each an empty directory)."""
    config: Mapping[str, str] = field(default_factory=dict)
    """Fixed environment entries; ``{platform}`` becomes the ``LibreChat`` resource's name."""
    config_maps: tuple[tuple[str, str], ...] = ()
    """(ConfigMap, mount path) pairs mounted read-only."""
    secret_keys: tuple[str, ...] = ()
    """Environment entries taken from the same-named keys of the platform's shared Secret
    (``spec.secretsRef``), one by one (never the whole Secret)."""
    egress_ports: tuple[int, ...] = ()
    """TCP ports it reaches outside the cluster and in the stores' namespace (providers,
    model downloads, databases)."""

    @property
    def route_pool(self) -> bool:
        """True for a pool of LibreChat's own API."""
        return self.image is None


def _pool(name: str, tier: int, low: int, high: int, routes: str) -> ServiceDefaults:
    return ServiceDefaults(
        name,
        tier,
        low,
        high,
        f"LibreChat's API image, the pool serving {routes}",
        None,
        port=LIBRECHAT_PORT,
        writable=LIBRECHAT_WRITABLE,
        egress_ports=LIBRECHAT_EGRESS,
    )


EMBEDDING_MODEL = "BAAI/bge-small-en-v1.5"
"""The model text-embeddings-inference serves (384 dimensions; the RAG API's vectors)."""

INVENTORY: tuple[ServiceDefaults, ...] = (
    _pool("conversation", 1, 5, 100, "conversations and messages"),
    _pool("assistant", 1, 3, 30, "agents and assistants"),
    _pool("file", 1, 2, 20, "files (S3 strategy)"),
    ServiceDefaults(
        "ai-gateway",
        2,
        10,
        200,
        "the LiteLLM proxy, LibreChat's custom endpoint: routing, retries, fallbacks",
        "litellm",
        port=4000,
        args=("--config", "/etc/litellm/config.yaml", "--port", "4000"),
        probe_path="/health/liveliness",
        writable=("/app/.cache", "/var/lib/litellm/ui", "/var/lib/litellm/assets"),
        config={"HOME": "/app", "XDG_CACHE_HOME": "/app/.cache"},
        config_maps=((GATEWAY_CONFIG_MAP, "/etc/litellm"),),
        secret_keys=("LITELLM_MASTER_KEY",),
        egress_ports=(443,),
    ),
    _pool("streaming", 2, 5, 50, "the chat SSE streams (resumable streams in Redis)"),
    ServiceDefaults(
        "ai-orchestrator",
        3,
        2,
        10,
        "LibreChat's RAG API (FastAPI, pgvector)",
        "rag-api",
        port=8000,
        writable=("/app/uploads",),
        config={
            "RAG_HOST": "0.0.0.0",
            "RAG_PORT": "8000",
            "VECTOR_DB_TYPE": "pgvector",
            "EMBEDDINGS_PROVIDER": "huggingfacetei",
            "EMBEDDINGS_MODEL": "http://{platform}-vector-embedding:8080",
        },
        secret_keys=("JWT_SECRET",),
        egress_ports=(5432,),
    ),
    ServiceDefaults(
        "vector-embedding",
        3,
        3,
        15,
        "Hugging Face text-embeddings-inference (Rust, Candle, ONNX): the RAG API's embeddings",
        "text-embeddings-inference",
        port=8080,
        args=("--model-id", EMBEDDING_MODEL, "--port", "8080"),
        writable=("/data",),
        config={"HUGGINGFACE_HUB_CACHE": "/data"},
        egress_ports=(443,),
    ),
)
"""What a ``LibreChat`` runs besides its API, in the seed's order."""

BY_NAME = {s.name: s for s in INVENTORY}


@dataclass(frozen=True)
class Elsewhere:
    """A seed service the operator does not run."""

    name: str
    tier: int
    pods: tuple[int, int]
    """The seed's pod range."""
    realized_by: str
    """What serves it instead, or ``removed``."""
    reason: str


ELSEWHERE: tuple[Elsewhere, ...] = (
    Elsewhere(
        "identity",
        1,
        (3, 50),
        "Keycloak, the keycloakx Helm release (autoscaled 3-50)",
        "Keycloak's clustering (Infinispan over a headless Service) and its build step at start "
        "are what the maintained chart sets up; LibreChat logs in through OpenID",
    ),
    Elsewhere(
        "notification",
        1,
        (2, 15),
        "removed",
        "LibreChat sends its own mail (verification, password reset) over SMTP (EMAIL_HOST; "
        "Amazon SES in AWS) and has no push channel for a service to feed",
    ),
    Elsewhere(
        "search",
        2,
        (3, 25),
        "Meilisearch, a StatefulSet per region (its Helm release)",
        "open-source Meilisearch is one node with its own index: it cannot run as "
        "interchangeable replicas",
    ),
    Elsewhere(
        "rate-limiting",
        2,
        (3, 15),
        "Kong's rate-limiting plugin on Redis (the Kong release)",
        "the limits belong at the one way in, where Kong already routes every request",
    ),
    Elsewhere("caching", 2, (3, 20), "ElastiCache for Redis (managed)", "a managed service"),
    Elsewhere(
        "ml-pipeline",
        3,
        (1, 5),
        "removed",
        "nothing deployed trains or serves a model of its own; the autoscaler's forecasts fit "
        "inside the operator",
    ),
    Elsewhere(
        "analytics-engine",
        3,
        (2, 8),
        "removed",
        "Managed Flink needs a job, and none of ours exists yet; an empty application with a jar "
        "nobody builds would cost money and prove nothing (MSK and the schema registry stay)",
    ),
    Elsewhere(
        "event-store",
        4,
        (3, 9),
        "removed",
        "LibreChat keeps conversations in MongoDB (DocumentDB) and nothing reads or writes an "
        "event store; MSK carries the seed's event streams",
    ),
    Elsewhere(
        "configuration",
        4,
        (2, 6),
        "removed",
        "LibreChat's configuration is its librechat.yaml and environment, which the program "
        "generates; nothing would read etcd or Consul",
    ),
    Elsewhere(
        "monitoring",
        4,
        (2, 5),
        "kube-prometheus-stack (the observability layer's Helm release)",
        "the observability layer, not a service of the platform",
    ),
)
"""The seed services realized outside the operator or removed, in the seed's order."""

API_SERVICE = ServiceDefaults(
    "api",
    1,
    2,
    20,
    "LibreChat's API image: every route no pool takes (login, config, the web client's API)",
    None,
    port=LIBRECHAT_PORT,
    writable=LIBRECHAT_WRITABLE,
    egress_ports=LIBRECHAT_EGRESS,
)
"""LibreChat's own API (``/health`` on port 3080), the front door next to the route pools."""

LIBRECHAT_IMAGE = LIBRECHAT_API_REPOSITORY
"""LibreChat's image repository; the tag is the platform's version."""

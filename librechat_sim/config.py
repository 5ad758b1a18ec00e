"""The simulator's settings: frozen dataclasses, written to the state directory for each process."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_FRONT_PORT = 3080
"""LibreChat's own port: where haproxy listens by default (``sim up --port``)."""


@dataclass(frozen=True)
class LLMConfig:
    """How the mock OpenAI-compatible upstream streams its replies. A field left ``None`` is drawn
    for each request from what was measured of real providers (:mod:`librechat_sim.costs`); a
    value fixes it for every request (the tests use fixed values)."""

    ttft_ms: float | None = None
    """Time to first token, in milliseconds; ``None``: drawn (GPT-4o-mini, median 645 ms)."""

    tokens_per_second: float | None = None
    """Token rate after the first token; ``None``: drawn (GPT-4o-mini, median 105 tokens/s)."""

    reply_tokens: int | None = None
    """Tokens in each reply; ``None``: drawn from Azure's LLM conversation trace (median 131).
    The reply text is a deterministic function of the prompt either way."""

    seed: int = 0
    """Seeds the draws: a request's draw is a function of the seed and its prompt, so a run
    repeats, and a replica taking a job over mid-reply gets the same reply length."""


@dataclass(frozen=True)
class GatewayConfig:
    """The AI gateway between the replicas and the mock LLMs: LiteLLM's proxy, run with the
    configuration the command line builds from the production one (:mod:`librechat_sim.gateway`)."""

    program: str = ""
    """Path of the ``litellm`` executable (``localplatform.litellm.ensure`` installs it); empty
    (the default) runs without a gateway: the replicas stream from the mock LLM directly."""

    config: dict[str, Any] = field(default_factory=dict)
    """LiteLLM's ``config.yaml`` as a dict; each deployment's ``api_base`` is a placeholder naming
    a local mock LLM (``librechat_sim.gateway.placeholder``)."""

    model: str = ""
    """The model group the replicas ask the gateway for (a ``model_name`` of ``config``)."""

    port: int = 4000
    """The proxy's port on 127.0.0.1 (LiteLLM's default); 0 picks a free one."""

    master_key: str = "sk-sim-gateway"
    """The proxy's master key, which the replicas send as their bearer token (LiteLLM wants it
    to start with ``sk-``)."""

    fallback_llm_port: int = 3096
    """Port of the second mock LLM, the fallback deployment's upstream; 0 picks a free one."""


@dataclass(frozen=True)
class SimConfig:
    """Everything a simulator replica, the mock LLM and the cluster launcher need to know."""

    state_dir: Path
    """Where pid files, logs, the Redis data and the haproxy config live."""

    front_port: int = DEFAULT_FRONT_PORT
    """haproxy's port on 127.0.0.1: the URL users and load tests talk to. 0 picks a free one."""

    replicas: int = 3
    """Number of API replicas behind haproxy."""

    regions: int = 1
    """Simulated regions (1 or 2). With 2, the replicas are split between regions ``a`` and ``b``
    and haproxy routes like a DNS failover record: to region ``a`` while any of its replicas passes
    its health check, else to ``b``. Redis is the global store both regions share."""

    replica_base_port: int = 3081
    """First replica's port (the others follow); 0 picks free ports."""

    redis_port: int = 6380
    """Port of the simulator's own redis-server; 0 picks a free one."""

    llm_port: int = 3095
    """Port of the mock LLM upstream; 0 picks a free one."""

    toxiproxy: str = ""
    """Path of ``toxiproxy-server`` (``localplatform.toxiproxy.ensure`` builds it). When set, the
    replicas reach the mock LLM and Redis through its proxies ``llm`` and ``redis``, where network
    faults are injected (with a gateway, the gateway reaches its primary mock LLM through ``llm``);
    empty (the default) runs without a fault proxy."""

    toxiproxy_port: int = 8474
    """Toxiproxy's HTTP API on 127.0.0.1 (its usual port); 0 picks a free one."""

    toxiproxy_upstreams: tuple[str, ...] = ("llm", "redis")
    """The upstreams the replicas reach through Toxiproxy (each proxy adds a hop to every
    request: leave out what no fault needs)."""

    redis_persistence: bool = True
    """Redis appends every write to its log and fsyncs it before answering (``appendonly yes``,
    ``appendfsync always``), so a Redis restart loses nothing. False is the deliberately broken
    system the chaos tests use: a Redis restart loses every conversation."""

    llm: LLMConfig = LLMConfig()
    """The mock LLM's timing."""

    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    """The AI gateway (LiteLLM) the replicas call instead of the mock LLM, when its program is
    set."""

    jwt_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    """Signs access tokens (LibreChat's ``JWT_SECRET``)."""

    jwt_refresh_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    """Signs refresh tokens (LibreChat's ``JWT_REFRESH_SECRET``)."""

    session_expiry_s: int = 15 * 60
    """Access-token lifetime (LibreChat's ``SESSION_EXPIRY``: 15 minutes)."""

    refresh_expiry_s: int = 7 * 24 * 3600
    """Refresh-token lifetime (LibreChat's ``REFRESH_TOKEN_EXPIRY``: 7 days)."""

    login_max: int = 10_000
    """Logins allowed per client IP and window. LibreChat's default is 7 per 5 minutes, which
    stops a load test from one generator; set ``LOGIN_MAX`` on a real LibreChat likewise."""

    login_window_s: int = 300
    """Length of the login rate-limit window (LibreChat's ``LOGIN_WINDOW``: 5 minutes)."""

    heartbeat_s: float = 15.0
    """Interval between SSE heartbeats (LibreChat sends ``: heartbeat`` every 15 s)."""

    lease_ms: int = 1500
    """A generation job's lease: when its owner stops renewing it for this long, a replica
    serving the stream takes the job over."""

    seed_users: int = 50
    """Pre-seeded users ``loadtest-<i>@example.com``."""

    seed_password: str = "loadtest-password"
    """Password of every pre-seeded user."""

    seed_conversations: int = 30
    """Conversations seeded per user (enough for more than one page of ``/api/convos``)."""

    key_prefix: str = "sim:"
    """Redis key prefix (LibreChat's ``REDIS_KEY_PREFIX``)."""

    max_upload_bytes: int = 10 * 1024 * 1024
    """Largest accepted file upload."""

    def region_of(self, replica_index: int) -> str:
        """The region (``a`` or ``b``) of the replica at ``replica_index`` (0-based): the first
        half of the replicas is in ``a``."""
        if self.regions < 2:
            return "a"
        return "a" if replica_index < (self.replicas + 1) // 2 else "b"

    def with_overrides(self, **changes: Any) -> SimConfig:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)

    def to_json(self) -> str:
        """Serialise for the child processes."""
        data = asdict(self)
        data["state_dir"] = str(self.state_dir)
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> SimConfig:
        """Read what :meth:`to_json` wrote."""
        data = json.loads(text)
        data["state_dir"] = Path(data["state_dir"])
        data["llm"] = LLMConfig(**data["llm"])
        if "gateway" in data:
            data["gateway"] = GatewayConfig(**data["gateway"])
        if "toxiproxy_upstreams" in data:
            data["toxiproxy_upstreams"] = tuple(data["toxiproxy_upstreams"])
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

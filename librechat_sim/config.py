"""The simulator's settings: frozen dataclasses, written to the state directory for each process."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_FRONT_PORT = 3080
"""LibreChat's own port: where haproxy listens by default (``sim up --port``)."""


@dataclass(frozen=True)
class LLMConfig:
    """How the mock OpenAI-compatible upstream streams its replies."""

    ttft_ms: float = 150.0
    """Time to first token, in milliseconds."""

    tokens_per_second: float = 200.0
    """Token rate after the first token."""

    reply_tokens: int = 40
    """Tokens in each reply (the reply text is a deterministic function of the prompt)."""


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
    faults are injected; empty (the default) runs without a fault proxy."""

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

    jwt_secret: str = "sim-jwt-secret"
    """Signs access tokens (LibreChat's ``JWT_SECRET``)."""

    jwt_refresh_secret: str = "sim-jwt-refresh-secret"
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
        if "toxiproxy_upstreams" in data:
            data["toxiproxy_upstreams"] = tuple(data["toxiproxy_upstreams"])
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

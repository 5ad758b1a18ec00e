"""The replicas' client of the OpenAI-compatible upstream: stream the tokens of one reply.

The upstream is the AI gateway (LiteLLM) when the simulator runs one, else the mock LLM itself
(:func:`target`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp

from .config import SimConfig

MOCK_MODEL = "sim-model"
"""The model the replicas name when they call the mock LLM directly (it serves any name)."""


@dataclass(frozen=True)
class Target:
    """Where a replica streams its replies from."""

    url: str
    """The chat completions endpoint."""
    model: str
    """The ``model`` of each request (the gateway's model group)."""
    headers: dict[str, str] = field(default_factory=dict)
    """Extra request headers (the gateway's bearer token)."""


def target(config: SimConfig) -> Target:
    """The gateway's ``/v1/chat/completions`` with its master key when it runs, else the mock
    LLM's."""
    gateway = config.gateway
    if gateway.program:
        return Target(
            f"http://127.0.0.1:{gateway.port}/v1/chat/completions",
            gateway.model,
            {"Authorization": f"Bearer {gateway.master_key}"},
        )
    return Target(f"http://127.0.0.1:{config.llm_port}/v1/chat/completions", MOCK_MODEL)


def upstream_session() -> aiohttp.ClientSession:
    """The replica's one session to the upstream (pooled connections, generous timeouts)."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600, sock_read=120))


async def stream_tokens(
    session: aiohttp.ClientSession, upstream: Target, prompt: str, skip: int = 0
) -> AsyncIterator[str]:
    """The reply's tokens from ``POST upstream.url`` with ``stream: true``, after the first
    ``skip``.

    ``sim_skip_tokens`` is the mock upstream's extension for a job taken over mid-reply; a real
    upstream would ignore it (and its replies are not deterministic anyway). The gateway passes it
    on to its deployment.
    """
    body = {
        "model": upstream.model,
        "stream": True,
        "messages": [{"role": "user", "content": prompt}],
        "sim_skip_tokens": skip,
    }
    async with session.post(upstream.url, json=body, headers=upstream.headers) as response:
        response.raise_for_status()
        async for raw in response.content:
            line = raw.decode().strip()
            if not line.startswith("data:") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[5:])
            choices = chunk.get("choices") or [{}]  # a usage-only chunk has none
            token = (choices[0].get("delta") or {}).get("content")
            if token:
                yield token

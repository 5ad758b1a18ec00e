"""The replicas' client of the OpenAI-compatible upstream: stream the tokens of one reply."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp


def upstream_session() -> aiohttp.ClientSession:
    """The replica's one session to the upstream (pooled connections, generous timeouts)."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600, sock_read=120))


async def stream_tokens(
    session: aiohttp.ClientSession, url: str, prompt: str, skip: int = 0
) -> AsyncIterator[str]:
    """The reply's tokens from ``POST url`` with ``stream: true``, after the first ``skip``.

    ``sim_skip_tokens`` is the mock upstream's extension for a job taken over mid-reply; a real
    upstream would ignore it (and its replies are not deterministic anyway).
    """
    body = {
        "model": "sim-model",
        "stream": True,
        "messages": [{"role": "user", "content": prompt}],
        "sim_skip_tokens": skip,
    }
    async with session.post(url, json=body) as response:
        response.raise_for_status()
        async for raw in response.content:
            line = raw.decode().strip()
            if not line.startswith("data:") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[5:])
            token = chunk["choices"][0]["delta"].get("content")
            if token:
                yield token

"""The mock LLM plays each reply's drawn length (and what is fixed), on a real loopback server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from librechat_sim.config import LLMConfig
from librechat_sim.costs import draw
from librechat_sim.llm import make_app, reply_tokens

pytestmark = pytest.mark.e2e

FAST = LLMConfig(ttft_ms=1, tokens_per_second=100_000, seed=5)
"""Drawn reply lengths, played at once."""


async def _tokens(
    session: aiohttp.ClientSession, url: str, prompt: str, skip: int = 0
) -> list[str]:
    body = {"stream": True, "messages": [{"role": "user", "content": prompt}]}
    async with session.post(
        f"{url}/v1/chat/completions", json=body | {"sim_skip_tokens": skip}
    ) as r:
        assert r.status == 200
        lines = [raw.decode().strip() async for raw in r.content]
    chunks = [json.loads(line[5:]) for line in lines if line.startswith("data: {")]
    return [
        c["choices"][0]["delta"]["content"]
        for c in chunks
        if c["choices"][0]["delta"].get("content")
    ]


async def _configure(session: aiohttp.ClientSession, url: str, changes: Any) -> int:
    async with session.post(f"{url}/admin/config", json=changes) as response:
        return response.status


def test_replies_have_their_drawn_length_and_a_takeover_gets_the_rest() -> None:
    async def scenario() -> None:
        async with TestServer(make_app(FAST), host="127.0.0.1") as server:
            url = str(server.make_url("")).rstrip("/")
            async with aiohttp.ClientSession() as session:
                for prompt in ("How should I scale 1a2b3c?", "and 4d5e6f?"):
                    length = draw(FAST, prompt).reply_tokens
                    assert await _tokens(session, url, prompt) == reply_tokens(prompt, length)
                    rest = await _tokens(session, url, prompt, skip=length // 2)
                    assert rest == reply_tokens(prompt, length)[length // 2 :]

    asyncio.run(scenario())


def test_admin_config_fixes_a_value_and_null_draws_it_again() -> None:
    prompt = "How should I scale 0f0f0f?"

    async def scenario() -> None:
        async with TestServer(make_app(FAST), host="127.0.0.1") as server:
            url = str(server.make_url("")).rstrip("/")
            async with aiohttp.ClientSession() as session:
                assert await _configure(session, url, {"reply_tokens": 3}) == 200
                assert len(await _tokens(session, url, prompt)) == 3
                assert await _configure(session, url, {"reply_tokens": None}) == 200
                drawn = draw(FAST, prompt).reply_tokens
                assert len(await _tokens(session, url, prompt)) == drawn
                assert await _configure(session, url, {"ttft_ms": "slow"}) == 400
                assert await _configure(session, url, {"tokens_per_second": -1}) == 400

    asyncio.run(scenario())

"""The mock OpenAI-compatible upstream: ``POST /v1/chat/completions`` with ``stream: true``.

Replies are a deterministic function of the last user message, so a replica that takes over a
generation job can ask for the same reply again and skip what was already sent (the non-standard
body field ``sim_skip_tokens``). Each reply's time to first token, token rate and length are drawn
from measurements of real providers (:mod:`librechat_sim.costs`) with the seed and the prompt, or
fixed by the configuration. The configuration is set at start and can be changed while it runs
with ``POST /admin/config`` (``{"ttft_ms": .., "tokens_per_second": ..}``; ``null`` draws again),
which the SLO-gate tests use to make inference slow.

Run as ``python -m librechat_sim.llm --port P [--seed S] [--ttft-ms T] [--tokens-per-second R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import time
from dataclasses import asdict, replace
from typing import Any

from aiohttp import web

from .config import LLMConfig
from .costs import draw

_VOCAB = [
    "the",
    "cluster",
    "scales",
    "out",
    "when",
    "load",
    "rises",
    "and",
    "every",
    "replica",
    "shares",
    "state",
    "through",
    "redis",
    "so",
    "a",
    "stream",
    "survives",
    "when",
    "one",
    "pod",
    "goes",
    "away",
    "while",
    "the",
    "others",
    "keep",
    "answering",
    "quickly",
]

LLM_CONFIG: web.AppKey[list[LLMConfig]] = web.AppKey("llm_config", list[LLMConfig])


def reply_tokens(prompt: str, count: int) -> list[str]:
    """The ``count`` tokens of the reply to ``prompt`` (each a word plus a space)."""
    seed = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:8], "big")
    return [_VOCAB[(seed + i * 7919) % len(_VOCAB)] + " " for i in range(count)]


def _chunk(model: str, created: int, delta: dict[str, Any], finish: str | None) -> bytes:
    body = {
        "id": f"chatcmpl-sim-{created}",
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


async def completions(request: web.Request) -> web.StreamResponse:
    """Stream a deterministic reply as OpenAI ``chat.completion.chunk`` events."""
    config = request.app[LLM_CONFIG][0]
    try:
        body = await request.json()
        prompt = str(body["messages"][-1]["content"])
    except (ValueError, KeyError, IndexError, TypeError):
        return web.json_response({"error": {"message": "messages are required"}}, status=400)
    if not body.get("stream"):
        return web.json_response({"error": {"message": "only stream: true is mocked"}}, status=400)
    skip = max(0, int(body.get("sim_skip_tokens", 0)))
    model = str(body.get("model", "sim-model"))
    created = int(time.time())
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    cost = draw(config, prompt)
    await asyncio.sleep(cost.ttft_ms / 1000)
    interval = 1 / cost.tokens_per_second if cost.tokens_per_second > 0 else 0.0
    await response.write(_chunk(model, created, {"role": "assistant", "content": ""}, None))
    for index, token in enumerate(reply_tokens(prompt, cost.reply_tokens)[skip:]):
        if index:
            await asyncio.sleep(interval)
        await response.write(_chunk(model, created, {"content": token}, None))
    await response.write(_chunk(model, created, {}, "stop"))
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def admin_config(request: web.Request) -> web.Response:
    """Change the timing of replies that start from now on (``null`` returns a field to the
    measured distribution)."""
    current = request.app[LLM_CONFIG][0]
    try:
        changes = {k: v for k, v in (await request.json()).items() if k in asdict(current)}
        updated = replace(current, **changes)
        _check(updated)
    except (ValueError, TypeError, AttributeError):
        return web.json_response(
            {"error": "expected a JSON object of LLMConfig fields"}, status=400
        )
    request.app[LLM_CONFIG][0] = updated
    return web.json_response(asdict(updated))


async def health(_request: web.Request) -> web.Response:
    """Liveness."""
    return web.Response(text="OK")


def make_app(config: LLMConfig) -> web.Application:
    """The mock upstream's application."""
    app = web.Application()
    app[LLM_CONFIG] = [config]
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_post("/admin/config", admin_config)
    app.router.add_get("/health", health)
    return app


def _check(config: LLMConfig) -> None:
    """Refuse timings the mock cannot play (``ValueError``)."""
    numbers = (config.ttft_ms, config.tokens_per_second, config.reply_tokens)
    if not isinstance(config.seed, int) or any(
        n is not None and (not isinstance(n, int | float) or n < 0) for n in numbers
    ):
        raise ValueError(f"not a timing the mock LLM can play: {config}")


def cli_flags(config: LLMConfig) -> list[str]:
    """The command-line flags that give :func:`main` this configuration (unset fields: none)."""
    argv = ["--seed", str(config.seed)]
    for flag, value in (
        ("--ttft-ms", config.ttft_ms),
        ("--tokens-per-second", config.tokens_per_second),
        ("--reply-tokens", config.reply_tokens),
    ):
        if value is not None:
            argv += [flag, str(value)]
    return argv


def main(argv: list[str] | None = None) -> None:
    """Serve the mock upstream on 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ttft-ms", type=float, help="fixed; default: drawn per request")
    parser.add_argument("--tokens-per-second", type=float, help="fixed; default: drawn")
    parser.add_argument("--reply-tokens", type=int, help="fixed; default: drawn")
    parser.add_argument("--seed", type=int, default=0, help="seeds the per-request draws")
    args = parser.parse_args(argv)
    config = LLMConfig(args.ttft_ms, args.tokens_per_second, args.reply_tokens, args.seed)
    web.run_app(make_app(config), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()

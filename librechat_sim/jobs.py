"""Resumable generation jobs, as LibreChat's ``GenerationJobManager`` keeps them in Redis.

A job's events live in a Redis stream, each with a sequence number. Appends go through one Lua
script that checks the caller still holds the job's lease and that the sequence number is the next
one, so an event is never written twice nor skipped, whichever replica writes it. The owner renews
its lease while it works; when the owner dies, a replica serving the stream sees the lease lapse,
takes the job over and continues from the next token (the mock LLM's replies are deterministic).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from redis.asyncio import Redis

from .config import SimConfig
from .store import Store, iso, now_ms
from .upstream import stream_tokens, target

_log = logging.getLogger(__name__)

JOB_TTL_S = 3600
"""How long a job's keys live (completed jobs can still be replayed meanwhile)."""

_APPEND = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if current + 1 ~= tonumber(ARGV[2]) then return -2 end
redis.call('XADD', KEYS[3], '*', 's', ARGV[2], 'd', ARGV[4])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[6])
redis.call('EXPIRE', KEYS[3], ARGV[6])
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[4], 'status', 'done')
  redis.call('DEL', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


@dataclass(frozen=True)
class StreamEvent:
    """One event of a job's stream."""

    entry_id: str
    """The Redis stream entry id (sent as the SSE ``id:``)."""

    seq: int
    """1 for ``created``, then one per token, then the ``final`` event."""

    data: dict[str, Any]
    """The event body sent to the client."""

    @property
    def final(self) -> bool:
        """True for the last event of the job."""
        return bool(self.data.get("final"))


class LeaseLostError(Exception):
    """Another replica holds the job now; this one stops writing."""


class Jobs:
    """Create, run, take over and read generation jobs."""

    def __init__(
        self, store: Store, config: SimConfig, replica: str, upstream: aiohttp.ClientSession
    ) -> None:
        self.store = store
        self.config = config
        self.replica = replica
        self.redis: Redis = store.redis
        self.upstream = upstream
        self.tasks: set[asyncio.Task[None]] = set()
        self._append = self.redis.register_script(_APPEND)
        self._renew = self.redis.register_script(_RENEW)

    def _keys(self, stream_id: str) -> list[str]:
        k = self.store.key
        return [
            k("lease", stream_id),
            k("seq", stream_id),
            k("stream", stream_id),
            k("job", stream_id),
        ]

    # ------------------------------------------------------------------ writing
    async def _write(self, owner: str, stream_id: str, seq: int, data: dict[str, Any]) -> None:
        final = "1" if data.get("final") else "0"
        args: list[str | int] = [
            owner,
            seq,
            self.config.lease_ms,
            json.dumps(data),
            final,
            JOB_TTL_S,
        ]
        result = await self._append(keys=self._keys(stream_id), args=args)
        if int(result) != 1:
            raise LeaseLostError(stream_id)

    async def create(self, user_id: str, convo: dict[str, Any], request_msg: dict[str, Any]) -> str:
        """Start a job for ``request_msg``; returns the stream id (the conversation id)."""
        stream_id = str(convo["conversationId"])
        owner = f"{self.replica}:{uuid.uuid4().hex[:8]}"
        lease, seq, stream, job = self._keys(stream_id)
        response_id = str(uuid.uuid4())
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(seq, stream)
            pipe.hset(
                job,
                mapping={
                    "status": "running",
                    "userId": user_id,
                    "conversationId": stream_id,
                    "requestMessage": json.dumps(request_msg),
                    "convo": json.dumps(convo),
                    "responseMessageId": response_id,
                    "createdAt": now_ms(),
                },
            )
            pipe.expire(job, JOB_TTL_S)
            pipe.set(lease, owner, px=self.config.lease_ms)
            await pipe.execute()
        created = {"created": True, "message": request_msg, "streamId": stream_id}
        await self._write(owner, stream_id, 1, created)
        self._spawn(owner, stream_id)
        return stream_id

    async def job(self, stream_id: str) -> dict[str, str] | None:
        """The job's metadata, or None when it does not exist (or expired)."""
        raw: Any = await self.redis.hgetall(self.store.key("job", stream_id))
        return {str(k): str(v) for k, v in raw.items()} if raw else None

    async def try_take_over(self, stream_id: str) -> bool:
        """Take a running job whose owner stopped renewing its lease; True when taken."""
        job = await self.job(stream_id)
        if job is None or job.get("status") != "running":
            return False
        owner = f"{self.replica}:{uuid.uuid4().hex[:8]}"
        lease = self.store.key("lease", stream_id)
        if not await self.redis.set(lease, owner, nx=True, px=self.config.lease_ms):
            return False
        self._spawn(owner, stream_id)
        return True

    def _spawn(self, owner: str, stream_id: str) -> None:
        task = asyncio.create_task(self._run(owner, stream_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _renew_forever(self, owner: str, stream_id: str) -> None:
        lease = self.store.key("lease", stream_id)
        while await self._renew(keys=[lease], args=[owner, self.config.lease_ms]):
            await asyncio.sleep(self.config.lease_ms / 3000)

    async def _run(self, owner: str, stream_id: str) -> None:
        renew = asyncio.create_task(self._renew_forever(owner, stream_id))
        try:
            await self._generate(owner, stream_id)
        except (LeaseLostError, aiohttp.ClientError, TimeoutError):
            pass  # another replica owns the job now, or one that serves it will take it over
        except Exception:
            _log.exception("generation job %s failed on %s", stream_id, self.replica)
        finally:
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew

    async def _generate(self, owner: str, stream_id: str) -> None:
        job = await self.job(stream_id)
        if job is None:
            return
        done = [event async for event in self._range(stream_id, "-")]
        seq = done[-1].seq if done else 0
        text = "".join(_delta_text(e.data) for e in done)
        request_msg = json.loads(job["requestMessage"])
        response_id = job["responseMessageId"]
        upstream = target(self.config)
        tokens = stream_tokens(self.upstream, upstream, request_msg["text"], skip=max(0, seq - 1))
        async for token in tokens:
            seq += 1
            text += token
            delta = {"event": "on_message_delta", "seq": seq, "data": _delta(response_id, token)}
            await self._write(owner, stream_id, seq, delta)
        await self._finish(owner, stream_id, seq + 1, job, text)

    async def _finish(
        self, owner: str, stream_id: str, seq: int, job: dict[str, str], text: str
    ) -> None:
        user_id = job["userId"]
        convo = json.loads(job["convo"])
        request_msg = json.loads(job["requestMessage"])
        response_msg = {
            "messageId": job["responseMessageId"],
            "conversationId": stream_id,
            "parentMessageId": request_msg["messageId"],
            "sender": "Simulated LLM",
            "isCreatedByUser": False,
            "text": text,
            "content": [{"type": "text", "text": text}],
            "endpoint": convo.get("endpoint", "agents"),
            "createdAt": iso(now_ms()),
        }
        await self.store.save_message(user_id, response_msg)
        convo = await self.store.save_convo(user_id, convo)  # as saved: with its updatedAt
        final = {
            "final": True,
            "conversation": convo,
            "title": convo.get("title"),
            "requestMessage": request_msg,
            "responseMessage": response_msg,
        }
        await self._write(owner, stream_id, seq, final)

    # ------------------------------------------------------------------ reading
    async def _range(self, stream_id: str, start: str) -> AsyncIterator[StreamEvent]:
        entries: Any = await self.redis.xrange(self.store.key("stream", stream_id), start, "+")
        for entry_id, fields in entries:
            yield _event(entry_id, fields)

    async def read(self, stream_id: str, after: str, block_ms: int) -> list[StreamEvent]:
        """Events after entry id ``after`` (``"0-0"`` for all), waiting up to ``block_ms``."""
        key = self.store.key("stream", stream_id)
        result: Any = await self.redis.xread({key: after}, count=500, block=block_ms)
        if not result:
            return []
        return [_event(entry_id, fields) for entry_id, fields in result[0][1]]

    async def snapshot(self, stream_id: str) -> list[StreamEvent]:
        """Every event written so far."""
        return [event async for event in self._range(stream_id, "-")]

    async def lease_held(self, stream_id: str) -> bool:
        """True while some replica holds the job's lease."""
        return bool(await self.redis.exists(self.store.key("lease", stream_id)))


def _event(entry_id: str, fields: dict[str, str]) -> StreamEvent:
    return StreamEvent(entry_id, int(fields["s"]), json.loads(fields["d"]))


def _delta(message_id: str, token: str) -> dict[str, Any]:
    return {"id": message_id, "delta": {"content": [{"type": "text", "text": token}]}}


def _delta_text(data: dict[str, Any]) -> str:
    if data.get("event") != "on_message_delta":
        return ""
    return "".join(part.get("text", "") for part in data["data"]["delta"]["content"])


def aggregated_text(events: list[StreamEvent]) -> str:
    """The reply text carried by ``events`` so far."""
    return "".join(_delta_text(e.data) for e in events)

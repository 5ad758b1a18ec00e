"""The two-step chat: ``POST /api/agents/chat/:endpoint`` then the SSE stream of the job.

The stream sends ``event: message`` frames with an ``id:`` (the Redis stream entry), a
``: heartbeat`` comment while idle, and ends after the ``final`` event. ``?resume=true`` first
sends LibreChat's ``sync`` event (the reply so far); a ``Last-Event-ID`` header instead replays
exactly the events after that id. Any replica can serve any stream; while it waits for events it
takes over a job whose owner died.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from aiohttp import web

from .jobs import StreamEvent, aggregated_text
from .replica import REPLICA, current_user, refuse_non_browser, unauthorized
from .store import iso, now_ms

POLL_MS = 250
"""How long one read of the job's stream waits before checking heartbeat and lease."""


async def start_chat(request: web.Request) -> web.Response:
    """Save the user's message, start a generation job, answer ``{streamId, conversationId}``."""
    claims = await current_user(request)
    if claims is None:
        return unauthorized()
    if (refused := refuse_non_browser(request)) is not None:
        return refused
    replica = request.app[REPLICA]
    try:
        body = await request.json()
        text = str(body["text"])
    except (ValueError, KeyError, TypeError):
        return web.json_response({"error": "text is required"}, status=400)
    user_id = str(claims["id"])
    endpoint = request.match_info["endpoint"]
    conversation_id = body.get("conversationId")
    convo = None
    if conversation_id and conversation_id != "new":
        convo = await replica.store.get_convo(user_id, str(conversation_id))
        if convo is None:
            return web.json_response({"error": "Conversation not found"}, status=404)
    if convo is None:
        convo = {
            "conversationId": str(uuid.uuid4()),
            "title": text[:40] or "New Chat",
            "endpoint": endpoint,
            "model": body.get("model", "sim-model"),
            "createdAt": iso(now_ms()),
        }
    request_msg = {
        "messageId": body.get("messageId") or str(uuid.uuid4()),
        "parentMessageId": body.get("parentMessageId", "00000000-0000-0000-0000-000000000000"),
        "conversationId": convo["conversationId"],
        "sender": "User",
        "isCreatedByUser": True,
        "text": text,
        "createdAt": iso(now_ms()),
    }
    if not await replica.store.save_message(user_id, request_msg):
        return web.json_response(
            {"error": "messageId belongs to another message; send a new one"}, status=409
        )
    await replica.store.save_convo(user_id, convo)
    stream_id = await replica.jobs.create(user_id, convo, request_msg)
    return web.json_response(
        {"streamId": stream_id, "conversationId": convo["conversationId"], "status": "started"}
    )


def _frame(event: StreamEvent) -> bytes:
    return f"event: message\nid: {event.entry_id}\ndata: {json.dumps(event.data)}\n\n".encode()


def _sync(events: list[StreamEvent]) -> bytes:
    last = events[-1] if events else None
    state: dict[str, Any] = {
        "aggregatedContent": [{"type": "text", "text": aggregated_text(events)}],
        "lastSeq": last.seq if last else 0,
    }
    data = json.dumps({"sync": True, "resumeState": state})
    event_id = f"id: {last.entry_id}\n" if last else ""
    return f"event: message\n{event_id}data: {data}\n\n".encode()


async def stream(request: web.Request) -> web.StreamResponse:
    """Subscribe to a job's events; replay what the client missed, then follow it live."""
    claims = await current_user(request)
    if claims is None:
        return unauthorized()
    if (refused := refuse_non_browser(request)) is not None:
        return refused
    replica = request.app[REPLICA]
    stream_id = request.match_info["streamId"]
    job = await replica.jobs.job(stream_id)
    if job is None:
        body = {
            "error": "Stream not found",
            "message": "The generation job does not exist or has expired.",
        }
        return web.json_response(body, status=404)
    if job.get("userId") != str(claims["id"]):
        return web.json_response({"error": "Unauthorized"}, status=403)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache, no-transform",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    replica.metrics.streams_active += 1
    try:
        await _follow(request, response, stream_id, _created_s(job))
    finally:
        replica.metrics.streams_active -= 1
    return response


def _created_s(job: dict[str, str]) -> float | None:
    """When the chat's request created the job (epoch seconds), None if not recorded."""
    try:
        return int(job["createdAt"]) / 1000
    except (KeyError, ValueError):
        return None


async def _follow(
    request: web.Request, response: web.StreamResponse, stream_id: str, created_s: float | None
) -> None:
    """Send the job's events; the first token sent is observed as the time to first token (from
    the chat's request, so a resumed stream counts the wait it caused)."""
    replica = request.app[REPLICA]
    first_token_seen = created_s is None
    jobs = replica.jobs
    after = request.headers.get("Last-Event-ID") or "0-0"
    if request.query.get("resume") == "true" and "Last-Event-ID" not in request.headers:
        so_far = await jobs.snapshot(stream_id)
        await response.write(_sync(so_far))
        if so_far and so_far[-1].final:
            await response.write(_frame(so_far[-1]))
            return
        after = so_far[-1].entry_id if so_far else "0-0"
    last_write = time.monotonic()
    while True:
        events = await jobs.read(stream_id, after, POLL_MS)
        for event in events:
            await response.write(_frame(event))
            after = event.entry_id
            if not first_token_seen and event.seq > 1 and not event.final:
                first_token_seen = True
                replica.metrics.observe_first_token(max(0.0, time.time() - (created_s or 0.0)))
            last_write = time.monotonic()
            if event.final:
                return
        if events:
            continue
        if time.monotonic() - last_write >= replica.config.heartbeat_s:
            await response.write(b": heartbeat\n\n")
            last_write = time.monotonic()
        if not await jobs.lease_held(stream_id) and await jobs.try_take_over(stream_id):
            replica.metrics.takeovers += 1
        if await jobs.job(stream_id) is None:
            await response.write(b'event: error\ndata: {"error": "Stream expired"}\n\n')
            return


def add_routes(app: web.Application) -> None:
    """Mount the chat routes."""
    app.router.add_post("/api/agents/chat/{endpoint}", start_chat)
    app.router.add_get("/api/agents/chat/stream/{streamId}", stream)

"""Conversations, messages, search and file upload, behind LibreChat's ``requireJwtAuth``."""

from __future__ import annotations

import hashlib
import uuid

from aiohttp import BodyPartReader, web

from .replica import REPLICA, current_user, refuse_non_browser, unauthorized
from .store import iso, now_ms

MAX_PAGE = 100


def _int(value: str | None, default: int) -> int:
    try:
        return max(1, min(MAX_PAGE, int(value))) if value else default
    except ValueError:
        return default


async def list_convos(request: web.Request) -> web.Response:
    """``GET /api/convos?limit=&cursor=``: ``{conversations, nextCursor}``, newest first."""
    claims = await current_user(request)
    if claims is None:
        return unauthorized()
    store = request.app[REPLICA].store
    cursor = request.query.get("cursor") or None
    if cursor is not None and not cursor.isdigit():
        return web.json_response({"error": "Invalid cursor"}, status=400)
    limit = _int(request.query.get("limit"), 25)
    convos, next_cursor = await store.convos_page(str(claims["id"]), limit, cursor)
    return web.json_response({"conversations": convos, "nextCursor": next_cursor})


async def convo_messages(request: web.Request) -> web.Response:
    """``GET /api/messages/:conversationId``: every message of one of the user's conversations."""
    claims = await current_user(request)
    if claims is None:
        return unauthorized()
    store = request.app[REPLICA].store
    conversation_id = request.match_info["conversationId"]
    if await store.get_convo(str(claims["id"]), conversation_id) is None:
        return web.json_response({"error": "Conversation not found"}, status=404)
    return web.json_response(await store.messages(conversation_id))


async def search_messages(request: web.Request) -> web.Response:
    """``GET /api/messages?search=``: ``{messages, nextCursor}`` with the conversation titles."""
    claims = await current_user(request)
    if claims is None:
        return unauthorized()
    store = request.app[REPLICA].store
    query = request.query.get("search", "")
    if not query:
        return web.json_response({"messages": [], "nextCursor": None})
    user_id = str(claims["id"])
    hits = await store.search(user_id, query, limit=_int(request.query.get("pageSize"), 25))
    messages = []
    for hit in hits:
        convo = await store.get_convo(user_id, hit["conversationId"]) or {}
        messages.append(hit | {"title": convo.get("title"), "model": convo.get("model")})
    return web.json_response({"messages": messages, "nextCursor": None})


async def upload_file(request: web.Request) -> web.Response:
    """``POST /api/files`` (multipart: ``file`` plus ``file_id``, ``endpoint`` fields)."""
    claims = await current_user(request)
    if claims is None:
        return unauthorized()
    if (refused := refuse_non_browser(request)) is not None:
        return refused
    replica = request.app[REPLICA]
    if not request.content_type.startswith("multipart/"):
        return web.json_response({"message": "Expected multipart/form-data"}, status=400)
    fields: dict[str, str] = {}
    filename, size, digest, mime = None, 0, hashlib.sha256(), "application/octet-stream"
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "file":
            filename = part.filename or "upload.bin"
            mime = part.headers.get("Content-Type", mime)
            while chunk := await part.read_chunk():
                size += len(chunk)
                if size > replica.config.max_upload_bytes:
                    return web.json_response({"message": "File too large"}, status=413)
                digest.update(chunk)
        elif part.name:
            fields[part.name] = await part.text()
    if filename is None:
        return web.json_response({"message": "No file uploaded"}, status=400)
    created = iso(now_ms())
    record = {  # LibreChat's file document (TFileUpload) plus the message; sha256 is ours
        "message": "File uploaded and processed successfully",
        "user": str(claims["id"]),
        "file_id": fields.get("file_id") or str(uuid.uuid4()),
        "temp_file_id": fields.get("file_id"),
        "filename": filename,
        "filepath": f"/uploads/{claims['id']}/{filename}",
        "object": "file",
        "type": mime,
        "bytes": size,
        "embedded": False,
        "usage": 0,
        "context": "message_attachment",
        "source": "local",
        "sha256": digest.hexdigest(),
        "createdAt": created,
        "updatedAt": created,
    }
    await replica.store.save_file(str(claims["id"]), record)
    return web.json_response(record)


def add_routes(app: web.Application) -> None:
    """Mount the data routes."""
    app.router.add_get("/api/convos", list_convos)
    app.router.add_get("/api/messages", search_messages)
    app.router.add_get("/api/messages/{conversationId}", convo_messages)
    app.router.add_post("/api/files", upload_file)

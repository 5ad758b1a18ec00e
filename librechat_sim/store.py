"""The state every replica shares, kept in Redis: users, conversations, messages, search, files.

Keys start with the configured prefix (LibreChat's ``REDIS_KEY_PREFIX``). Conversations are a
sorted set per user scored by ``updatedAt`` (microseconds), which is what the cursor pagination of
``GET /api/convos`` walks; search is an inverted index of lower-cased words per user.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from .auth import TokenUser

_WORD = re.compile(r"[a-z0-9]{2,}")


def words(text: str) -> set[str]:
    """The indexable words of ``text``."""
    return set(_WORD.findall(text.lower()))


def now_ms() -> int:
    """Wall-clock milliseconds."""
    return int(time.time() * 1000)


def iso(ms: int) -> str:
    """ISO-8601 UTC timestamp of ``ms``, as MongoDB dates serialise."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


@dataclass(frozen=True)
class StoredUser:
    """A user record."""

    user: TokenUser
    """Identity claims."""

    password_hash: str
    """A bcrypt hash (see :func:`librechat_sim.auth.hash_password`)."""

    created_at: str = ""
    """When the user was created (ISO-8601, as the document's ``createdAt``)."""

    def public(self) -> dict[str, Any]:
        """The ``user`` object LibreChat returns on login: its user document without the
        password (``TUser`` of librechat-data-provider; a local user's ``avatar`` is null)."""
        return {
            "id": self.user.id,
            "_id": self.user.id,
            "email": self.user.email,
            "username": self.user.username,
            "name": self.user.username,
            "avatar": None,
            "provider": "local",
            "role": "USER",
            "emailVerified": True,
            "createdAt": self.created_at,
            "updatedAt": self.created_at,
        }


@dataclass(frozen=True)
class Session:
    """A login session (LibreChat's ``Session`` document, kept under its refresh token's hash)."""

    id: str
    """The session's id (the refresh token's ``sessionId`` claim)."""

    user_id: str
    """Whose session."""

    expires_ms: int
    """When it ends (epoch milliseconds): the login plus ``REFRESH_TOKEN_EXPIRY``; refreshing
    does not extend it."""

    def to_json(self) -> str:
        """The stored form."""
        return json.dumps({"id": self.id, "user": self.user_id, "expiration": self.expires_ms})

    @classmethod
    def from_json(cls, raw: str) -> Session:
        """Read what :meth:`to_json` wrote."""
        data = json.loads(raw)
        return cls(id=data["id"], user_id=data["user"], expires_ms=int(data["expiration"]))


def _stored_user(data: Any) -> StoredUser | None:
    """A user hash as a record (``None`` when the hash is empty)."""
    if not data:
        return None
    user = TokenUser(id=data["id"], email=data["email"], username=data["username"])
    return StoredUser(user=user, password_hash=data["pw"], created_at=data.get("created") or iso(0))


class Store:
    """Typed access to the simulator's Redis keys (the client must use ``decode_responses``)."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def key(self, *parts: str) -> str:
        """A prefixed key."""
        return self.prefix + ":".join(parts)

    # --------------------------------------------------------------- users
    async def add_user(self, email: str, username: str, password_hash: str) -> TokenUser:
        """Create (or overwrite) a user; returns its identity."""
        existing: Any = await self.redis.hget(self.key("user", email.lower()), "id")
        user_id = str(existing) if existing else uuid.uuid4().hex[:24]
        record: dict[Any, Any] = {
            "id": user_id,
            "email": email,
            "username": username,
            "pw": password_hash,
        }
        if not existing:
            record["created"] = iso(now_ms())
        async with self.redis.pipeline(transaction=True) as pipe:  # by email and by id
            pipe.hset(self.key("user", email.lower()), mapping=record)
            pipe.hset(self.key("uid", user_id), mapping=record)
            await pipe.execute()
        return TokenUser(id=user_id, email=email, username=username)

    async def user_by_email(self, email: str) -> StoredUser | None:
        """The user with ``email``, if any: one round trip, as LibreChat's ``findUser``."""
        return _stored_user(await self.redis.hgetall(self.key("user", email.lower())))

    async def user_by_id(self, user_id: str) -> StoredUser | None:
        """The user with id ``user_id``, if any: one round trip, as LibreChat's ``getUserById``
        (which its JWT strategy runs on every authenticated request)."""
        return _stored_user(await self.redis.hgetall(self.key("uid", user_id)))

    async def delete_user(self, user: TokenUser) -> None:
        """Remove a user (LibreChat's ``deleteUserById``); tokens already issued stop working."""
        await self.redis.delete(self.key("user", user.email.lower()), self.key("uid", user.id))

    # --------------------------------------------------------------- sessions
    async def create_session(self, session: Session, token_hash: str) -> None:
        """Save a new session under its refresh token's hash (one round trip, as LibreChat's
        ``createSession`` saves the document); Redis drops it when it expires."""
        await self.redis.set(
            self.key("session", token_hash), session.to_json(), pxat=session.expires_ms
        )

    async def find_session(self, user_id: str, token_hash: str) -> Session | None:
        """The unexpired session of ``user_id`` whose refresh token hashes to ``token_hash`` (one
        round trip, as LibreChat's ``findSession``)."""
        raw: Any = await self.redis.get(self.key("session", token_hash))
        session = Session.from_json(raw) if raw else None
        if session is None or session.user_id != user_id or session.expires_ms <= now_ms():
            return None
        return session

    async def rotate_session(self, session: Session, old_hash: str, new_hash: str) -> None:
        """Keep ``session`` under its new refresh token's hash only (one round trip, as LibreChat's
        ``generateRefreshToken`` saves the new hash over the old)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.key("session", old_hash))
            pipe.set(self.key("session", new_hash), session.to_json(), pxat=session.expires_ms)
            await pipe.execute()

    async def login_attempt(self, client: str, window_s: int) -> int:
        """Count a login attempt from ``client`` in the current window; returns the count."""
        key = self.key("login_limiter", client)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window_s, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    # --------------------------------------------------------------- conversations
    async def save_convo(self, user_id: str, convo: dict[str, Any]) -> dict[str, Any]:
        """Insert or update a conversation and bump it to the top of the user's list; returns it
        as saved (with ``updatedAt`` and ``user``)."""
        updated_us = time.time_ns() // 1000  # unique enough to be a pagination cursor
        convo = convo | {"updatedAt": iso(updated_us // 1000), "user": user_id}
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self.key("convo", convo["conversationId"]), json.dumps(convo))
            pipe.zadd(self.key("convos", user_id), {convo["conversationId"]: updated_us})
            await pipe.execute()
        return convo

    async def get_convo(self, user_id: str, conversation_id: str) -> dict[str, Any] | None:
        """The conversation, when it exists and belongs to ``user_id``."""
        raw: Any = await self.redis.get(self.key("convo", conversation_id))
        if raw is None:
            return None
        convo: dict[str, Any] = json.loads(raw)
        return convo if convo.get("user") == user_id else None

    async def convos_page(
        self, user_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page, newest first; ``cursor`` is the last ``updatedAt`` (microseconds) seen."""
        top = f"({int(cursor)}" if cursor else "+inf"
        ids: Any = await self.redis.zrevrangebyscore(
            self.key("convos", user_id), top, "-inf", start=0, num=limit + 1, withscores=True
        )
        page, more = ids[:limit], len(ids) > limit
        raws: Any = await self.redis.mget([self.key("convo", cid) for cid, _ in page])
        convos = [json.loads(raw) for raw in raws if raw is not None]
        next_cursor = str(int(page[-1][1])) if more and page else None
        return convos, next_cursor

    # --------------------------------------------------------------- messages
    async def save_message(self, user_id: str, message: dict[str, Any]) -> bool:
        """Append a message to its conversation and index its words; saving it again updates it.

        A message id is unique across users, as LibreChat's unique ``messageId`` index makes it:
        an id that already names another user's message, or a message of another conversation,
        is refused (False) and nothing is written.
        """
        message = message | {"user": user_id}
        mid, cid = message["messageId"], message["conversationId"]
        if not await self.redis.set(self.key("msg", mid), json.dumps(message), nx=True):
            raw: Any = await self.redis.get(self.key("msg", mid))
            existing = json.loads(raw) if raw else {}
            if existing.get("user") != user_id or existing.get("conversationId") != cid:
                return False
            await self.redis.set(self.key("msg", mid), json.dumps(message))
            return True
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.rpush(self.key("msgs", cid), mid)
            for word in words(message.get("text", "")):
                pipe.sadd(self.key("idx", user_id, word), mid)
            await pipe.execute()
        return True

    async def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every message of a conversation, oldest first."""
        ids: Any = await self.redis.lrange(self.key("msgs", conversation_id), 0, -1)
        if not ids:
            return []
        raws: Any = await self.redis.mget([self.key("msg", mid) for mid in ids])
        return [json.loads(raw) for raw in raws if raw is not None]

    async def search(self, user_id: str, query: str, limit: int = 25) -> list[dict[str, Any]]:
        """Messages of ``user_id`` containing every word of ``query`` (at most ``limit``)."""
        terms = sorted(words(query))
        if not terms:
            return []
        ids: Any = await self.redis.sinter([self.key("idx", user_id, term) for term in terms])
        chosen = sorted(ids)[:limit]
        if not chosen:
            return []
        raws: Any = await self.redis.mget([self.key("msg", mid) for mid in chosen])
        return [json.loads(raw) for raw in raws if raw is not None]

    # --------------------------------------------------------------- files
    async def save_file(self, user_id: str, record: dict[str, Any]) -> None:
        """Keep a file's metadata (the bytes themselves are not stored)."""
        record = record | {"user": user_id}
        await self.redis.set(self.key("file", record["file_id"]), json.dumps(record))

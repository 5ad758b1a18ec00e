"""Pre-seeded users, each with conversations and messages, so every journey has data to read."""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

from .auth import hash_password
from .config import SimConfig
from .store import Store, iso, now_ms

_TOPICS = ("kubernetes", "redis", "autoscaling", "latency", "budget", "failover")

NO_PARENT = "00000000-0000-0000-0000-000000000000"
"""The ``parentMessageId`` of a conversation's first message (librechat-data-provider's
``Constants.NO_PARENT``)."""


def seed_email(index: int) -> str:
    """Email of pre-seeded user ``index`` (0-based)."""
    return f"loadtest-{index}@example.com"


async def seed(config: SimConfig) -> None:
    """Create the users (idempotent: an existing user keeps its id) and their conversations."""
    redis = Redis(host="127.0.0.1", port=config.redis_port, decode_responses=True)
    try:
        store = Store(redis, config.key_prefix)
        password_hash = hash_password(config.seed_password)
        for index in range(config.seed_users):
            user = await store.add_user(seed_email(index), f"loadtest{index}", password_hash)
            if await redis.zcard(store.key("convos", user.id)):
                continue
            for n in range(config.seed_conversations):
                topic = _TOPICS[n % len(_TOPICS)]
                convo_id = str(uuid.uuid4())
                await store.save_convo(
                    user.id,
                    {
                        "conversationId": convo_id,
                        "title": f"About {topic} #{n}",
                        "endpoint": "agents",
                        "model": "sim-model",
                        "createdAt": iso(now_ms()),
                    },
                )
                parent = NO_PARENT
                for turn, (sender, text) in enumerate(
                    (("User", f"How do I tune {topic}?"), ("Simulated LLM", f"Tune {topic} so."))
                ):
                    message_id = str(uuid.uuid4())
                    await store.save_message(
                        user.id,
                        {
                            "messageId": message_id,
                            "parentMessageId": parent,
                            "conversationId": convo_id,
                            "sender": sender,
                            "isCreatedByUser": turn == 0,
                            "text": text,
                            "createdAt": iso(now_ms()),
                        },
                    )
                    parent = message_id
    finally:
        await redis.aclose()

"""The names of the Locust entries each journey records, and which SLO journey they count for."""

from __future__ import annotations

LOGIN = "auth: login"
REFRESH = "auth: refresh"
CONVOS = "convos: list"
MESSAGES = "messages: list"
CHAT_SEND = "chat: send"
CHAT_TTFT = "chat: time to first token"
CHAT_COMPLETE = "chat: time to complete"
SEARCH = "search: messages"
UPLOAD = "files: upload"

JOURNEY_ENTRIES: dict[str, tuple[str, ...]] = {
    # DESIGN.md §4: "authentication 25 ms - Keycloak + Redis" is the token path: LibreChat's
    # refresh verifies a JWT and reads and writes its session store (no password hashing).
    "authentication": (REFRESH,),
    # The password login: bcrypt at cost 10 is slow on purpose and the seed sets it no target,
    # so it is reported on its own and judged only where a profile gives it one.
    "login": (LOGIN,),
    "message_delivery": (CONVOS, MESSAGES, CHAT_SEND),
    # DESIGN.md §4: "AI inference 1,500 ms" is the time to first token of a streamed reply.
    "ai_inference": (CHAT_TTFT,),
    # The whole reply: reported, with no seed target.
    "time_to_complete": (CHAT_COMPLETE,),
    "search": (SEARCH,),
    "file_operations": (UPLOAD,),
}
"""SLO journey (DESIGN.md §4) -> the Locust entries whose latencies it judges."""

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
    "authentication": (LOGIN, REFRESH),
    "message_delivery": (CONVOS, MESSAGES, CHAT_SEND),
    "ai_inference": (CHAT_COMPLETE,),
    "time_to_first_token": (CHAT_TTFT,),
    "search": (SEARCH,),
    "file_operations": (UPLOAD,),
}
"""SLO journey (DESIGN.md §4) -> the Locust entries whose latencies it judges."""

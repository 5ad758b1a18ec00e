"""Probes of the simulator: its processes, its front door, and whether replies and conversations
come through faults whole (no lost or duplicated message).

Configuration: ``sim_state_dir`` as in :mod:`chaos.simulator.actions`.
"""

import json
import logging
from pathlib import Path
from typing import Any

import requests

from librechat_sim.ledger import Delivery

from ..errors import ChaosError
from .actions import SEED_PASSWORD, SEED_USER
from .chat import ChatClient
from .state import Simulator, running

__all__ = [
    "chat_round_trip",
    "conversation_survives",
    "cut_replies_delivered_once",
    "front_status",
    "process_running",
    "replicas_running",
]

_log = logging.getLogger("chaostoolkit")


def _sim(configuration: dict[str, Any] | None) -> Simulator:
    return Simulator.configured(configuration)


def process_running(name: str = "redis", configuration: dict[str, Any] | None = None) -> bool:
    """True while the simulator's process ``name`` runs."""
    return running(_sim(configuration).find(name))


def replicas_running(region: str = "", configuration: dict[str, Any] | None = None) -> int:
    """How many API replicas run (of ``region`` only, when given)."""
    return sum(running(p) for p in _sim(configuration).replicas(region or None))


def front_status(path: str = "/health", configuration: dict[str, Any] | None = None) -> int:
    """The HTTP status the front door (haproxy) answers for ``path``; 0 when nothing answers."""
    try:
        return requests.get(_sim(configuration).url + path, timeout=5).status_code
    except requests.RequestException:
        return 0


def chat_round_trip(
    email: str = SEED_USER,
    password: str = SEED_PASSWORD,
    within_s: float = 15.0,
    configuration: dict[str, Any] | None = None,
) -> bool:
    """True when a new chat message gets its whole reply, each event once, and the server then
    keeps exactly the message and the reply."""
    try:
        client = ChatClient(_sim(configuration).url, email, password)
        delivery = client.follow_to_end(client.start("are you there?"), within_s)
    except ChaosError as exc:
        _log.warning("chat round trip failed: %s", exc)
        return False
    return _intact(client, delivery)


def _intact(client: ChatClient, delivery: Delivery) -> bool:
    summary = delivery.summary()
    stored = client.stored(delivery.stream_id)
    replies = [m for m in stored if m.get("parentMessageId") == delivery.request_message_id]
    asked = [m for m in stored if m.get("messageId") == delivery.request_message_id]
    summary |= {"stored_requests": len(asked), "stored_replies": len(replies)}
    ok = (
        summary["complete"]
        and summary["duplicates"] == 0
        and summary["gaps"] == 0
        and summary["text_matches_final"]
        and len(asked) == 1
        and len(replies) == 1
        and replies[0].get("text") == delivery.text
    )
    _log.info("reply %s: %s", "intact" if ok else "NOT intact", json.dumps(summary))
    return bool(ok)


def cut_replies_delivered_once(
    within_s: float = 20.0, configuration: dict[str, Any] | None = None
) -> bool:
    """Resume every reply cut by ``kill_replica_mid_stream`` through the front door (with the
    ``Last-Event-ID`` the client last saw) and check each arrives whole, each event once, and is
    stored once. Each record is checked once, then removed; with none, it holds."""
    folder = _sim(configuration).notes / "cut-streams"
    verdicts = [_resume(path, within_s, configuration) for path in sorted(folder.glob("*.json"))]
    return all(verdicts)


def _resume(path: Path, within_s: float, configuration: dict[str, Any] | None) -> bool:
    record = json.loads(path.read_text())
    path.unlink()
    client = ChatClient(_sim(configuration).url, record["email"], record["password"])
    delivery = Delivery(
        stream_id=record["streamId"],
        request_message_id=record["requestMessageId"],
        email=record["email"],
        seqs=list(record["seqs"]),
        text=record["text"],
        last_event_id=record["lastEventId"],
    )
    return _intact(client, client.follow_to_end(delivery, within_s))


def conversation_survives(configuration: dict[str, Any] | None = None) -> bool:
    """True when the canary conversation of ``remember_conversation`` is still stored whole (its
    message and its reply); checked once, then forgotten; with no canary, it holds."""
    canary = _sim(configuration).notes / "canary.json"
    if not canary.exists():
        return True
    record = json.loads(canary.read_text())
    canary.unlink()
    try:
        client = ChatClient(_sim(configuration).url, record["email"], record["password"])
        stored = client.stored(record["conversationId"])
    except ChaosError as exc:
        _log.warning("canary %s is lost: %s", record["conversationId"], exc)
        return False
    _log.info("canary %s: %d messages stored", record["conversationId"], len(stored))
    return len(stored) == 2

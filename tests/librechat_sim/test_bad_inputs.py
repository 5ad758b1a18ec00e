"""Bad input to the simulator and its command: forged tokens, another user's message id, ports
that are not ports. Each is refused with a clear answer, never a traceback or a silent overwrite."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest

from librechat_sim.description import ClusterInfo
from tests.commands import run_cli
from tests.simclient import Client

pytestmark = pytest.mark.e2e

PROTECTED = "/api/convos"
ATTACKER_KEY = "an-attacker-s-own-secret-of-32-bytes!!"


def _claims(sim: ClusterInfo, **changes: Any) -> dict[str, Any]:
    """The claims of a real token for the first seeded user, with ``changes``."""
    client = Client(sim.url)
    assert client.login().status == 200
    claims: dict[str, Any] = jwt.decode(client.token, options={"verify_signature": False})
    return claims | changes


def test_a_genuine_token_is_accepted(sim: ClusterInfo) -> None:
    token = jwt.encode(_claims(sim), sim.config.jwt_secret, algorithm="HS256")
    assert Client(sim.url, token=token).request("GET", PROTECTED).status == 200


@pytest.mark.parametrize(
    ("why", "forge"),
    [
        ("alg none", lambda sim, c: jwt.encode(c, None, algorithm="none")),
        ("wrong key", lambda sim, c: jwt.encode(c, ATTACKER_KEY, algorithm="HS256")),
        ("refresh key", lambda sim, c: jwt.encode(c, sim.config.jwt_refresh_secret)),
        (
            "expired",
            lambda sim, c: jwt.encode(
                c | {"exp": int(time.time()) - 60}, sim.config.jwt_secret, algorithm="HS256"
            ),
        ),
        (
            "HS512",
            lambda sim, c: jwt.encode(c, sim.config.jwt_secret, algorithm="HS512"),
        ),
    ],
)
def test_forged_or_expired_access_tokens_are_refused(
    sim: ClusterInfo, why: str, forge: Any
) -> None:
    token = forge(sim, _claims(sim))
    response = Client(sim.url, token=token).request("GET", PROTECTED)
    assert response.status == 401, why


@pytest.mark.parametrize(
    ("why", "forge"),
    [
        ("alg none", lambda sim, c: jwt.encode(c, None, algorithm="none")),
        ("access key", lambda sim, c: jwt.encode(c, sim.config.jwt_secret, algorithm="HS256")),
        (
            "expired",
            lambda sim, c: jwt.encode(
                c | {"exp": int(time.time()) - 60}, sim.config.jwt_refresh_secret, algorithm="HS256"
            ),
        ),
    ],
)
def test_forged_or_expired_refresh_tokens_are_refused(
    sim: ClusterInfo, why: str, forge: Any
) -> None:
    client = Client(sim.url)
    assert client.login().status == 200
    claims = jwt.decode(client.cookies["refreshToken"], options={"verify_signature": False})
    forged = Client(sim.url, cookies={"refreshToken": forge(sim, claims)})
    response = forged.request("POST", "/api/auth/refresh")
    assert response.status == 403, why


def _chat(client: Client, message_id: str, text: str) -> Any:
    body = {
        "text": text,
        "sender": "User",
        "isCreatedByUser": True,
        "messageId": message_id,
        "parentMessageId": "00000000-0000-0000-0000-000000000000",
        "conversationId": None,
        "endpoint": "openAI",
        "model": "gpt-4o-mini",
    }
    return client.request("POST", "/api/agents/chat/openAI", body)


def _stored(client: Client, conversation_id: str) -> list[dict[str, Any]]:
    response = client.request("GET", f"/api/messages/{conversation_id}")
    assert response.status == 200
    messages: list[dict[str, Any]] = response.json()
    return messages


def test_a_message_id_cannot_overwrite_another_users_message(sim: ClusterInfo) -> None:
    owner, intruder = Client(sim.url), Client(sim.url)
    assert owner.login("loadtest-0@example.com").status == 200
    assert intruder.login("loadtest-1@example.com").status == 200
    message_id = str(uuid.uuid4())
    started = _chat(owner, message_id, "mine, not yours")
    assert started.status == 200
    conversation_id = started.json()["conversationId"]
    taken = _chat(intruder, message_id, "overwritten!")
    assert taken.status == 409
    # The owner's message is untouched, and a replay of the same id by its owner into a new
    # conversation is refused too (it would store the message twice).
    assert _chat(owner, message_id, "again").status == 409
    texts = [m["text"] for m in _stored(owner, conversation_id) if m["messageId"] == message_id]
    assert texts == ["mine, not yours"]


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--port", "70000"), ("--base-port", "-5"), ("--redis-port", "-1"), ("--llm-port", "99999")],
)
def test_ports_that_are_not_ports_are_refused_without_a_traceback(
    tmp_path: Path, flag: str, value: str
) -> None:
    result = run_cli("sim", "up", flag, value, state=tmp_path / "state", timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"Invalid value for '{flag}'" in result.stderr
    assert not (tmp_path / "state" / "sim" / "cluster.json").exists()


def test_the_last_replica_port_past_65535_is_refused(tmp_path: Path) -> None:
    result = run_cli(
        "sim", "up", "--base-port", "65535", "--replicas", "2", state=tmp_path / "state", timeout=60
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "not TCP ports: 65536 (for replica r2)" in result.stderr

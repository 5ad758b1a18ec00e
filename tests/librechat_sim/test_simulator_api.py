"""The simulator answers LibreChat's routes as the journeys rely on (real Redis and haproxy)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from librechat_sim.cluster import Cluster
from librechat_sim.description import ClusterInfo
from librechat_sim.processes import kill
from loadtests.common import multipart
from tests.simclient import Client, sim_config

pytestmark = pytest.mark.e2e


def test_health_answers_ok_through_haproxy(sim: ClusterInfo) -> None:
    response = Client(sim.url).request("GET", "/health")
    assert (response.status, response.body) == (200, b"OK")
    assert response.headers["x-sim-replica"] in {"r1", "r2"}


def test_login_returns_a_token_and_an_httponly_refresh_cookie(sim: ClusterInfo) -> None:
    client = Client(sim.url)
    response = client.login()
    assert response.status == 200
    body = response.json()
    assert body["user"]["email"] == "loadtest-0@example.com"
    assert body["token"].count(".") == 2
    (cookie,) = [c for c in response.set_cookies if c.startswith("refreshToken=")]
    assert "HttpOnly" in cookie


@pytest.mark.parametrize(
    ("email", "password", "status"),
    [
        ("loadtest-0@example.com", "wrong", 404),
        ("nobody@example.com", "loadtest-password", 404),
    ],
)
def test_bad_logins_are_refused(sim: ClusterInfo, email: str, password: str, status: int) -> None:
    response = Client(sim.url).login(email, password)
    assert response.status == status
    assert "token" not in response.json()


def test_login_without_json_is_a_bad_request(sim: ClusterInfo) -> None:
    response = Client(sim.url).request("POST", "/api/auth/login", raw=b"email=x")
    assert response.status == 400


def test_refresh_uses_the_cookie_and_rotates_it(sim: ClusterInfo) -> None:
    client = Client(sim.url)
    client.login()
    first_cookie = client.cookies["refreshToken"]
    refreshed = client.request("POST", "/api/auth/refresh")
    assert refreshed.status == 200
    assert refreshed.json()["token"]
    assert client.cookies["refreshToken"] != first_cookie
    no_cookie = Client(sim.url).request("POST", "/api/auth/refresh")
    assert (no_cookie.status, no_cookie.body) == (200, b"Refresh token not provided")
    forged = Client(sim.url, cookies={"refreshToken": "a.b.c"}).request("POST", "/api/auth/refresh")
    assert forged.status == 403


@pytest.mark.parametrize(
    "path",
    ["/api/convos", "/api/messages?search=redis", "/api/messages/x", "/api/agents/chat/stream/x"],
)
def test_routes_require_a_valid_token(sim: ClusterInfo, path: str) -> None:
    assert Client(sim.url).request("GET", path).status == 401
    assert Client(sim.url, token="forged.token.value").request("GET", path).status == 401


def test_conversations_paginate_with_a_cursor_without_gaps_or_repeats(sim: ClusterInfo) -> None:
    client = Client(sim.url)
    client.login()
    seen: list[str] = []
    cursor = ""
    for _page in range(10):
        path = "/api/convos?limit=7" + (f"&cursor={cursor}" if cursor else "")
        body = client.request("GET", path).json()
        assert len(body["conversations"]) <= 7
        seen += [c["conversationId"] for c in body["conversations"]]
        cursor = body["nextCursor"] or ""
        if not cursor:
            break
    assert len(seen) == 30
    assert len(set(seen)) == 30
    assert client.request("GET", "/api/convos?cursor=abc").status == 400


def test_messages_of_own_conversation_only(sim: ClusterInfo) -> None:
    owner, other = Client(sim.url), Client(sim.url)
    owner.login()
    other.login("loadtest-1@example.com")
    convo = owner.request("GET", "/api/convos?limit=1").json()["conversations"][0]
    messages = owner.request("GET", f"/api/messages/{convo['conversationId']}").json()
    assert [m["isCreatedByUser"] for m in messages] == [True, False]
    assert {m["conversationId"] for m in messages} == {convo["conversationId"]}
    assert other.request("GET", f"/api/messages/{convo['conversationId']}").status == 404


def test_search_finds_only_matching_messages_of_the_user(sim: ClusterInfo) -> None:
    client = Client(sim.url)
    client.login()
    found = client.request("GET", "/api/messages?search=redis").json()
    assert found["messages"]
    assert all("redis" in m["text"].lower() for m in found["messages"])
    assert all(m["title"] for m in found["messages"])
    assert client.request("GET", "/api/messages?search=zebra").json()["messages"] == []


def test_file_upload_multipart(sim: ClusterInfo) -> None:
    client = Client(sim.url)
    client.login()
    body, content_type = multipart.encode(
        {"file_id": "f-1"}, "file", "n.txt", b"x" * 1000, "text/plain"
    )
    response = client.request(
        "POST", "/api/files", raw=body, headers={"Content-Type": content_type}
    )
    assert response.status == 200
    assert (response.json()["file_id"], response.json()["bytes"]) == ("f-1", 1000)
    not_multipart = client.request("POST", "/api/files", {"file": "x"})
    assert not_multipart.status == 400
    no_file, ctype = multipart.encode({}, "other", "n.txt", b"x", "text/plain")
    assert (
        client.request("POST", "/api/files", raw=no_file, headers={"Content-Type": ctype}).status
        == 400
    )


def test_chat_and_files_refuse_non_browser_agents(sim: ClusterInfo) -> None:
    client = Client(sim.url, user_agent="python-requests/2.32")
    assert client.login().status == 200  # LibreChat checks the agent on chat and files routes
    body, ctype = multipart.encode({}, "file", "n.txt", b"x", "text/plain")
    for response in (
        client.request("POST", "/api/agents/chat/agents", {"text": "hi"}),
        client.request("POST", "/api/files", raw=body, headers={"Content-Type": ctype}),
    ):
        assert response.status == 403
        assert response.json() == {"message": "Illegal request"}


def test_chat_validates_its_input(sim: ClusterInfo) -> None:
    client = Client(sim.url)
    client.login()
    assert client.request("POST", "/api/agents/chat/agents", {"nope": 1}).status == 400
    missing = client.request(
        "POST", "/api/agents/chat/agents", {"text": "x", "conversationId": "no-such"}
    )
    assert missing.status == 404
    assert client.request("GET", "/api/agents/chat/stream/no-such-stream").status == 404


def test_metrics_are_prometheus_text(sim: ClusterInfo) -> None:
    client = Client(sim.url)
    client.request("GET", "/health")
    text = client.request("GET", "/metrics").body.decode()
    assert "# TYPE librechat_sim_http_requests_total counter" in text
    labels = r'replica="r\d",route="/health",method="GET",status="200"'
    assert re.search(r"librechat_sim_http_requests_total\{" + labels + r"\} \d+", text)
    assert 'le="+Inf"' in text


def test_logins_are_rate_limited_per_client(tmp_path: Path) -> None:
    with Cluster(sim_config(tmp_path, login_max=3, seed_users=1)) as info:
        statuses = [Client(info.url).login().status for _ in range(5)]
        forged = Client(info.url).request(
            "POST",
            "/api/auth/login",
            {"email": "loadtest-0@example.com", "password": "loadtest-password"},
            headers={"X-Forwarded-For": "10.9.8.7"},
        )
        too_many = Client(info.url).login()
    assert statuses == [200, 200, 200, 429, 429]
    assert forged.status == 429  # a forged X-Forwarded-For does not reset the limit
    assert too_many.json()["message"].startswith("Too many login attempts")


def _errors(text: str, route: str) -> float:
    pattern = r'librechat_sim_http_errors_total\{replica="r\d",route="' + re.escape(route)
    return sum(float(m) for m in re.findall(pattern + r'",method="GET"\} (\S+)', text))


def test_server_errors_count_from_zero_even_when_a_handler_fails(tmp_path: Path) -> None:
    """Every route's error counter is exported at 0 from the start (``rate`` cannot see a
    counter's first increment), and a handler that fails because Redis is gone still counts
    its 500."""
    with Cluster(sim_config(tmp_path, replicas=1)) as info:
        client = Client(info.url)
        assert client.login().status == 200
        before = client.request("GET", "/metrics").body.decode()
        assert _errors(before, "/api/convos") == 0
        kill(info.child("redis"))
        assert client.request("GET", "/api/convos").status == 500
        after = client.request("GET", "/metrics").body.decode()
        assert _errors(after, "/api/convos") == 1

"""The simulator holds to LibreChat's own contract.

One exchange per route the Locust journeys use (and one per SSE event kind of the chat stream) is
recorded against a running simulator, with the bodies the journeys send, and checked by the Node
checker with the zod schemas and TypeScript types of ``librechat-data-provider`` at the version
the followed LibreChat release ships (installed once into the toolkit's cache). Each exchange must
pass; an altered one must fail, naming its route and field.
"""

from __future__ import annotations

import ast
import copy
import json
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml

from librechat_ops.settings import Settings
from librechat_sim import contract
from librechat_sim.contract import ContractError, Exchange, Report, Result
from librechat_sim.description import ClusterInfo
from librechat_sim.sse import SSEParser
from loadtests.common import multipart
from tests.simclient import Client, Response

ROOT = Path(__file__).resolve().parents[2]
JOURNEYS = ROOT / "loadtests" / "locustfiles" / "journeys.py"
STREAM = "GET /api/agents/chat/stream/:streamId"

ROUTES = [
    "POST /api/auth/login",
    "POST /api/auth/refresh",
    "GET /api/convos",
    "GET /api/messages/:conversationId",
    "GET /api/messages",
    "POST /api/files",
    "POST /api/agents/chat/:endpoint",
    f"{STREAM} created",
    f"{STREAM} on_message_delta",
    f"{STREAM} final",
    "GET /health",
]
"""What the checker names each recorded exchange, in recording order."""


# --------------------------------------------------------------------------- recording
def _ok(response: Response) -> Any:
    assert response.status == 200, (response.status, response.body[:300])
    return response.json()


def _query(path: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(path).query))


def chat_body(endpoint: str, model: str) -> dict[str, Any]:
    """The body ``LibreChatUser.chat`` posts (built the same way; the keys are compared with
    journeys.py below): a new chat with LibreChat's ephemeral agent."""
    return {
        "text": f"How should I scale {uuid.uuid4().hex[:6]}?",
        "sender": "User",
        "isCreatedByUser": True,
        "messageId": str(uuid.uuid4()),
        "parentMessageId": "00000000-0000-0000-0000-000000000000",
        "conversationId": None,
        "endpoint": endpoint,
        "model": model,
        "agent_id": "ephemeral",
        "isContinued": False,
        "isTemporary": False,
    }


def stream_events(client: Client, stream_id: str) -> list[dict[str, Any]]:
    """The data of every event of a stream, up to ``final``."""
    conn = client.connection()
    try:
        path = f"/api/agents/chat/stream/{stream_id}"
        conn.request("GET", path, headers=client.headers({"Accept": "text/event-stream"}))
        response = conn.getresponse()
        assert response.status == 200, response.status
        parser, events = SSEParser(), []
        while line := response.readline():
            for event in parser.feed(line.decode()):
                if event.comment is None and event.event == "message":
                    events.append(event.json())
                    if events[-1].get("final"):
                        return events
        raise AssertionError(f"the stream ended without a final event after {len(events)}")
    finally:
        conn.close()


def _kind(event: dict[str, Any]) -> str:
    return "created" if event.get("created") else "final" if event.get("final") else event["event"]


def record(url: str) -> list[Exchange]:
    """Walk the journeys once, as ``LibreChatUser`` does, keeping one exchange per route."""
    client = Client(url)
    login = {"email": "loadtest-0@example.com", "password": "loadtest-password"}
    answer = _ok(client.request("POST", "/api/auth/login", login))
    client.token = answer["token"]
    exchanges = [Exchange("POST /api/auth/login", login, answer)]
    refreshed = _ok(client.request("POST", "/api/auth/refresh"))
    exchanges.append(Exchange("POST /api/auth/refresh", None, refreshed))
    convos_path = "/api/convos?limit=25"
    convos = _ok(client.request("GET", convos_path))
    exchanges.append(Exchange("GET /api/convos", _query(convos_path), convos))
    conversation_id = convos["conversations"][0]["conversationId"]
    messages = _ok(client.request("GET", f"/api/messages/{conversation_id}"))
    exchanges.append(Exchange("GET /api/messages/:conversationId", None, messages))
    search_path = "/api/messages?search=redis"
    found = _ok(client.request("GET", search_path))
    exchanges.append(Exchange("GET /api/messages", _query(search_path), found))
    fields = {"file_id": str(uuid.uuid4()), "endpoint": "agents"}
    raw, content_type = multipart.encode(
        fields, "file", "notes.txt", b"load test upload\n" * 64, "text/plain"
    )
    headers = {"Content-Type": content_type}
    uploaded = _ok(client.request("POST", "/api/files", raw=raw, headers=headers))
    exchanges.append(Exchange("POST /api/files", fields, uploaded))
    body = chat_body("openAI", "gpt-4o-mini")  # the journeys' defaults without Locust options
    started = _ok(client.request("POST", "/api/agents/chat/openAI", body))
    exchanges.append(Exchange("POST /api/agents/chat/:endpoint", body, started))
    first: dict[str, dict[str, Any]] = {}
    for event in stream_events(client, started["streamId"]):
        first.setdefault(_kind(event), event)
    exchanges += [Exchange(STREAM, None, first[kind]) for kind in first]
    health = client.request("GET", "/health")
    assert health.status == 200
    exchanges.append(Exchange("GET /health", None, health.body.decode()))
    return exchanges


@pytest.fixture(scope="module")
def modules() -> Path:
    """The pinned packages, installed once (``npm ci``) into the toolkit's cache."""
    return contract.ensure(Settings.from_env().cache_dir)


@pytest.fixture(scope="module")
def recorded(sim: ClusterInfo) -> list[Exchange]:
    """One exchange per route, recorded against the module's simulator."""
    return record(sim.url)


@pytest.fixture(scope="module")
def baseline(recorded: list[Exchange], modules: Path) -> Report:
    """The checker's verdict on the recorded exchanges."""
    return contract.check(recorded, modules)


# --------------------------------------------------------------------------- (a) conformance
@pytest.mark.e2e
@pytest.mark.slow
def test_every_recorded_exchange_conforms(baseline: Report) -> None:
    assert [result.route for result in baseline.results] == ROUTES
    problems = [f"{r.route}: {p}" for r in baseline.results for p in r.problems]
    assert problems == []
    assert baseline.ok
    assert all(result.checks for result in baseline.results)


@pytest.mark.e2e
@pytest.mark.slow
def test_messages_and_conversations_meet_the_runtime_zod_schemas(baseline: Report) -> None:
    checks = {result.route: result.checks for result in baseline.results}
    assert "response: zod tMessageSchema" in checks["GET /api/messages/:conversationId"]
    assert "response: zod tMessageSchema" in checks["GET /api/messages"]
    assert "response: zod tConversationSchema" in checks["GET /api/convos"]
    assert "response: zod tConversationSchema" in checks[f"{STREAM} final"]


def _journey_keys(function: str) -> set[str]:
    """The keys of the body dict literal ``function`` of journeys.py sends (its ``body = {...}``,
    or the fields it passes to ``multipart.encode``)."""
    tree = ast.parse(JOURNEYS.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            for inner in ast.walk(node):
                found: ast.expr | None = None
                if isinstance(inner, ast.Assign) and isinstance(inner.value, ast.Dict):
                    if any(isinstance(t, ast.Name) and t.id == "body" for t in inner.targets):
                        found = inner.value
                elif isinstance(inner, ast.Call) and inner.args:
                    func = inner.func
                    if isinstance(func, ast.Attribute) and func.attr == "encode":
                        found = inner.args[0]
                if isinstance(found, ast.Dict):
                    return {str(k.value) for k in found.keys if isinstance(k, ast.Constant)}
    raise AssertionError(f"journeys.py has no body dict in {function}()")


@pytest.mark.e2e
@pytest.mark.slow
def test_the_recorded_requests_carry_the_journeys_fields(recorded: list[Exchange]) -> None:
    requests = {exchange.route: exchange.request for exchange in recorded}
    assert set(requests["POST /api/auth/login"]) == _journey_keys("login")
    assert set(requests["POST /api/agents/chat/:endpoint"]) == _journey_keys("chat")
    assert set(requests["POST /api/files"]) == _journey_keys("upload")


# --------------------------------------------------------------------------- (b) alterations
DROP = object()
"""Marks an alteration that removes the field."""


@dataclass(frozen=True)
class Alteration:
    """One change to a recorded exchange that LibreChat's contract refuses."""

    route: str
    """The checker's name of the exchange to alter (see :data:`ROUTES`)."""

    path: tuple[str | int, ...]
    """Where: ``("response", "user", "email")``."""

    value: object
    """The new value, or :data:`DROP`."""

    field: str
    """What a problem line must name."""


ALTERATIONS = {
    "login-user-without-email": Alteration(
        "POST /api/auth/login", ("response", "user", "email"), DROP, "email"
    ),
    "login-token-a-number": Alteration("POST /api/auth/login", ("response", "token"), 123, "token"),
    "login-request-without-password": Alteration(
        "POST /api/auth/login", ("request", "password"), DROP, "password"
    ),
    "refresh-without-user": Alteration(
        "POST /api/auth/refresh", ("response", "user"), DROP, "user"
    ),
    "conversation-id-a-number": Alteration(
        "GET /api/convos", ("response", "conversations", 0, "conversationId"), 123, "conversationId"
    ),
    "conversation-unknown-endpoint": Alteration(
        "GET /api/convos", ("response", "conversations", 0, "endpoint"), "nowhere", "endpoint"
    ),
    "message-without-messageId": Alteration(
        "GET /api/messages/:conversationId", ("response", 0, "messageId"), DROP, "messageId"
    ),
    "message-conversationId-a-number": Alteration(
        "GET /api/messages/:conversationId",
        ("response", 1, "conversationId"),
        123,
        "conversationId",
    ),
    "search-hit-isCreatedByUser-a-string": Alteration(
        "GET /api/messages",
        ("response", "messages", 0, "isCreatedByUser"),
        "yes",
        "isCreatedByUser",
    ),
    "search-without-nextCursor": Alteration(
        "GET /api/messages", ("response", "nextCursor"), DROP, "nextCursor"
    ),
    "upload-bytes-a-string": Alteration("POST /api/files", ("response", "bytes"), "1088", "bytes"),
    "upload-object-not-file": Alteration(
        "POST /api/files", ("response", "object"), "blob", "object"
    ),
    "chat-request-conversationId-a-number": Alteration(
        "POST /api/agents/chat/:endpoint", ("request", "conversationId"), 123, "conversationId"
    ),
    "chat-start-without-streamId": Alteration(
        "POST /api/agents/chat/:endpoint", ("response", "streamId"), DROP, "streamId"
    ),
    "created-message-without-messageId": Alteration(
        f"{STREAM} created", ("response", "message", "messageId"), DROP, "messageId"
    ),
    "delta-content-a-string": Alteration(
        f"{STREAM} on_message_delta", ("response", "data", "delta", "content"), "tok", "content"
    ),
    "final-conversation-without-updatedAt": Alteration(
        f"{STREAM} final", ("response", "conversation", "updatedAt"), DROP, "updatedAt"
    ),
    "final-reply-without-text": Alteration(
        f"{STREAM} final", ("response", "responseMessage", "text"), DROP, "text"
    ),
    "health-not-ok": Alteration("GET /health", ("response",), "NOT OK", "response"),
}


def alter(exchange: Exchange, change: Alteration) -> Exchange:
    """A copy of ``exchange`` with ``change`` applied."""
    parts: dict[str, Any] = copy.deepcopy(
        {"request": exchange.request, "response": exchange.response}
    )
    holder: Any = parts
    for step in change.path[:-1]:
        holder = holder[step]
    last = change.path[-1]
    if change.value is DROP:
        del holder[last]
    else:
        holder[last] = change.value
    return Exchange(exchange.route, parts["request"], parts["response"])


@pytest.fixture(scope="module")
def altered(recorded: list[Exchange], baseline: Report, modules: Path) -> dict[str, Result]:
    """The checker's verdict on every alteration (one checker run for all)."""
    by_route = {result.route: recorded[i] for i, result in enumerate(baseline.results)}
    changed = [alter(by_route[change.route], change) for change in ALTERATIONS.values()]
    report = contract.check(changed, modules)
    return dict(zip(ALTERATIONS, report.results, strict=True))


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("name", list(ALTERATIONS))
def test_an_altered_exchange_fails_naming_route_and_field(
    name: str, altered: dict[str, Result]
) -> None:
    change, result = ALTERATIONS[name], altered[name]
    assert not result.ok
    assert result.route == change.route
    assert any(change.field in problem for problem in result.problems), result.problems
    assert all(problem.startswith(("request", "response")) for problem in result.problems)


@pytest.mark.e2e
@pytest.mark.slow
def test_the_checker_prints_a_line_per_exchange_and_exits_non_zero_on_a_mismatch(
    recorded: list[Exchange], modules: Path
) -> None:
    command = ["node", str(contract.HERE / "check.cjs"), "--modules", str(modules)]
    lines = "".join(exchange.to_json() + "\n" for exchange in recorded)
    passing = subprocess.run(command, input=lines, capture_output=True, text=True, check=False)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert f"{len(recorded)} passed, 0 failed" in passing.stdout.splitlines()[-1]
    assert sum(line.startswith("PASS ") for line in passing.stdout.splitlines()) == len(recorded)
    messages = next(e for e in recorded if e.route == "GET /api/messages/:conversationId")
    broken = alter(messages, ALTERATIONS["message-without-messageId"])
    failing = subprocess.run(
        command, input=broken.to_json() + "\n", capture_output=True, text=True, check=False
    )
    assert failing.returncode == 1
    assert "FAIL GET /api/messages/:conversationId" in failing.stdout
    assert "messageId" in failing.stdout
    assert failing.stdout.splitlines()[-1].endswith("0 passed, 1 failed")


# --------------------------------------------------------------------------- (c) the version
def test_the_pinned_package_is_the_one_the_module_and_readme_state() -> None:
    manifest = json.loads((contract.HERE / "package.json").read_text())
    lock = json.loads((contract.HERE / "package-lock.json").read_text())
    pinned = manifest["dependencies"][contract.PACKAGE]
    assert pinned == contract.pinned_version() == contract.DATA_PROVIDER_VERSION
    assert lock["packages"][f"node_modules/{contract.PACKAGE}"]["version"] == pinned
    assert lock["packages"][""]["dependencies"][contract.PACKAGE] == pinned
    readme = (ROOT / "README.md").read_text()
    assert f"`{contract.PACKAGE}` {pinned}" in readme
    assert f"LibreChat {contract.LIBRECHAT_RELEASE}" in readme


def test_the_followed_release_is_the_one_the_stacks_deploy() -> None:
    tags = {
        path.name: yaml.safe_load(path.read_text())["config"]["librechat:imageTag"]
        for path in sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
    }
    assert tags
    assert set(tags.values()) == {contract.LIBRECHAT_RELEASE}, tags


@pytest.mark.e2e
@pytest.mark.slow
def test_the_installed_package_was_built_from_the_followed_release(baseline: Report) -> None:
    assert baseline.package == contract.DATA_PROVIDER_VERSION
    assert baseline.release == contract.LIBRECHAT_RELEASE


# --------------------------------------------------------------------------- set-up errors
def test_without_node_the_install_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ContractError) as raised:
        contract.ensure(tmp_path / "cache")
    assert "npm" in raised.value.message
    assert raised.value.hint is not None
    assert "install" in raised.value.hint
    assert not (tmp_path / "cache").exists()


def test_a_refused_install_says_so_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A registry on a loopback port nobody listens on, and an empty npm cache: npm ci must fail.
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    monkeypatch.setenv("npm_config_offline", "false")
    cache = tmp_path / "cache"
    with pytest.raises(ContractError) as raised:
        contract.ensure(cache)
    assert "npm ci" in raised.value.message
    assert "127.0.0.1:9" in raised.value.message  # the refusing registry, named
    assert raised.value.hint is not None
    assert "npm ping" in raised.value.hint
    assert not contract.install_dir(cache).exists()
    assert [p.name for p in cache.iterdir() if p.is_dir()] == []


def test_a_checker_without_its_packages_stops_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ContractError) as raised:
        contract.check([Exchange("GET /health", None, "OK")], tmp_path)
    assert "exit 3" in raised.value.message
    assert "librechat-data-provider" in raised.value.message
    assert raised.value.hint is not None
    assert "check.cjs" in raised.value.hint

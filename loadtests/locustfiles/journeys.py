"""The journeys of one LibreChat browser session, over LibreChat's real HTTP API.

Each virtual user logs in once as one of :data:`CREDENTIALS` (pre-seeded users: LibreChat
rate-limits logins) with a browser User-Agent (LibreChat refuses other agents), walks every journey
once, then at random refreshes its token, lists conversations, reads messages, chats (two steps:
start, then the SSE stream until ``final``; time to first token and time to complete are separate
entries), searches and uploads files.
"""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from typing import Any

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

from librechat_sim.ledger import LEDGER, Delivery
from librechat_sim.sse import SSEParser
from librechat_sim.useragent import BROWSER_USER_AGENT
from loadtests.common import multipart, names

CREDENTIALS: list[tuple[str, str]] = []
"""(email, password) of the users to log in as; filled by the locustfile at init."""

_user_numbers = itertools.count()


class LibreChatUser(FastHttpUser):
    """One browser session of a pre-seeded user."""

    wait_time = between(0.5, 1.5)
    default_headers = {"User-Agent": BROWSER_USER_AGENT}  # noqa: RUF012

    token = ""
    conversation_ids: list[str]

    def on_start(self) -> None:
        """Log in, then walk every journey once, so each run covers all of them."""
        self.conversation_ids = []
        if not CREDENTIALS:
            raise StopUser
        self.email, self.password = CREDENTIALS[next(_user_numbers) % len(CREDENTIALS)]
        self.login()
        for journey in (
            self.refresh,
            self.list_conversations,
            self.read_messages,
            self.search,
            self.upload,
            self.chat,
        ):
            journey()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def login(self) -> None:
        """``POST /api/auth/login``: keep the access token (the refresh cookie is kept too)."""
        body = {"email": self.email, "password": self.password}
        with self.client.post(
            "/api/auth/login", json=body, name=names.LOGIN, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"login answered {response.status_code}")
                self.token = ""
                return
            self.token = response.json()["token"]

    def _ready(self) -> bool:
        if not self.token:
            self.login()
        return bool(self.token)

    @task(2)
    def refresh(self) -> None:
        """``POST /api/auth/refresh`` with the ``refreshToken`` cookie. A refused refresh (401/403:
        the session moved on, e.g. a rotation whose answer was lost) signs the user out, as
        LibreChat's client does: the next task logs in again."""
        if not self._ready():
            return
        with self.client.post(
            "/api/auth/refresh", name=names.REFRESH, catch_response=True
        ) as response:
            if response.status_code != 200 or "token" not in (response.text or ""):
                response.failure(f"refresh answered {response.status_code}")
                if response.status_code in (401, 403):
                    self.token = ""
                return
            self.token = response.json()["token"]

    @task(3)
    def list_conversations(self) -> None:
        """``GET /api/convos``, following ``nextCursor`` for a second page."""
        if not self._ready():
            return
        cursor = ""
        for _page in range(2):
            path = "/api/convos?limit=25" + (f"&cursor={cursor}" if cursor else "")
            with self.client.get(
                path, headers=self._auth(), name=names.CONVOS, catch_response=True
            ) as response:
                if response.status_code != 200:
                    response.failure(f"convos answered {response.status_code}")
                    return
                body = response.json()
            convos = body.get("conversations", [])
            self.conversation_ids = [c["conversationId"] for c in convos][:10] or (
                self.conversation_ids
            )
            cursor = body.get("nextCursor") or ""
            if not cursor:
                return

    @task(3)
    def read_messages(self) -> None:
        """``GET /api/messages/:conversationId`` of a known conversation."""
        if not self._ready() or not self.conversation_ids:
            return
        conversation_id = random.choice(self.conversation_ids)
        with self.client.get(
            f"/api/messages/{conversation_id}",
            headers=self._auth(),
            name=names.MESSAGES,
            catch_response=True,
        ) as response:
            if response.status_code != 200 or not isinstance(response.json(), list):
                response.failure(f"messages answered {response.status_code}")

    @task(2)
    def search(self) -> None:
        """``GET /api/messages?search=``."""
        if not self._ready():
            return
        with self.client.get(
            "/api/messages?search=redis",
            headers=self._auth(),
            name=names.SEARCH,
            catch_response=True,
        ) as response:
            if response.status_code != 200 or "messages" not in response.json():
                response.failure(f"search answered {response.status_code}")

    @task(1)
    def upload(self) -> None:
        """``POST /api/files`` as multipart, like the web client."""
        if not self._ready():
            return
        file_id = str(uuid.uuid4())
        body, content_type = multipart.encode(
            {"file_id": file_id, "endpoint": "agents"},
            "file",
            "notes.txt",
            b"load test upload\n" * 64,
            "text/plain",
        )
        headers = self._auth() | {"Content-Type": content_type}
        client: Any = self.client
        with client.post(
            "/api/files", data=body, headers=headers, name=names.UPLOAD, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"upload answered {response.status_code}")

    @task(2)
    def chat(self) -> None:
        """Start a reply, then follow its SSE stream to the ``final`` event. Every chat goes to
        the ledger, from a ``finally``: refused at its first POST, cut by the run's end, or done."""
        if not self._ready():
            return
        started = time.perf_counter()
        options = self.environment.parsed_options
        endpoint = options.lco_chat_endpoint if options else "openAI"
        body = {  # what LibreChat's web client sends for a new chat with an ephemeral agent
            "text": f"How should I scale {uuid.uuid4().hex[:6]}?",
            "sender": "User",
            "isCreatedByUser": True,
            "messageId": str(uuid.uuid4()),
            "parentMessageId": "00000000-0000-0000-0000-000000000000",
            "conversationId": None,
            "endpoint": endpoint,
            "model": options.lco_chat_model if options else "gpt-4o-mini",
            "agent_id": "ephemeral",
            "isContinued": False,
            "isTemporary": False,
        }
        delivery = Delivery(
            "", str(body["messageId"]), self.email, request_text=str(body["text"]),
            started_at=time.time(), outcome="in_flight",
        )  # fmt: skip
        try:
            with self.client.post(
                f"/api/agents/chat/{endpoint}",
                json=body,
                headers=self._auth(),
                name=names.CHAT_SEND,
                catch_response=True,
            ) as response:
                if response.status_code != 200 or "streamId" not in (response.text or ""):
                    response.failure(f"chat answered {response.status_code}")
                    delivery.outcome = "refused"
                    delivery.error = f"the POST answered {response.status_code}"
                    return
                delivery.stream_id = str(response.json()["streamId"])
            self._follow(delivery, started)
            delivery.outcome = ""
        finally:
            LEDGER.write(delivery)

    def _fire(self, name: str, started: float, error: str | None) -> None:
        self.environment.events.request.fire(
            request_type="SSE",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=RuntimeError(error) if error else None,
            context={},
        )

    def _follow(self, delivery: Delivery, started: float) -> None:
        """Read the stream to ``final``; when it breaks, reconnect with the ``Last-Event-ID`` of
        the last event received, as LibreChat's client resumes."""
        options = self.environment.parsed_options
        deadline = time.perf_counter() + (options.lco_chat_timeout if options else 60.0)
        error = "stream ended without a final event"
        while time.perf_counter() < deadline:
            error = self._read_stream(delivery, started, deadline)
            if delivery.final or error.startswith("stream answered 4"):
                break
            delivery.reconnects += 1
            time.sleep(0.2)
        if not delivery.final:
            delivery.error = error
        self._fire(names.CHAT_COMPLETE, started, None if delivery.final else error)

    def _read_stream(self, delivery: Delivery, started: float, deadline: float) -> str:
        """One connection to the stream; returns why it ended when no ``final`` came."""
        headers = self._auth() | {"Accept": "text/event-stream"}
        if delivery.last_event_id:
            headers["Last-Event-ID"] = delivery.last_event_id
        response: Any = self.client.get(
            f"/api/agents/chat/stream/{delivery.stream_id}",
            headers=headers,
            name="chat: stream open",
            stream=True,
        )
        if response.status_code != 200:
            return f"stream answered {response.status_code}"
        parser = SSEParser()
        # Line by line: FastResponse.iter_content blocks until a whole chunk has arrived,
        # which would hide the time to first token.
        raw = response._response
        try:
            while line := raw.readline(b"\n"):
                for event in parser.feed(line.decode(errors="replace")):
                    if event.comment is not None or event.event != "message":
                        continue
                    had_text = bool(delivery.text)
                    delivery.record(event.id, json.loads(event.data))
                    if not had_text and delivery.text:
                        self._fire(names.CHAT_TTFT, started, None)
                    if delivery.final:
                        return ""
                if time.perf_counter() > deadline:
                    return "no final event within the chat timeout"
        except (OSError, ValueError) as exc:
            return f"stream broke: {exc}"
        return "stream ended without a final event"

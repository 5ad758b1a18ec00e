"""The simulator in tests: settings on free loopback ports, and a small browser-like HTTP client.

The ``sim`` fixture (tests/conftest.py) runs one simulator per test module with these settings.
"""

from __future__ import annotations

import http.client
import http.cookies
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from librechat_sim.config import LLMConfig, SimConfig
from librechat_sim.useragent import BROWSER_USER_AGENT


def sim_config(state_dir: Path, **changes: Any) -> SimConfig:
    """Simulator settings for tests: every port picked free, few users."""
    base = SimConfig(
        state_dir=state_dir,
        front_port=0,
        replica_base_port=0,
        redis_port=0,
        llm_port=0,
        replicas=2,
        seed_users=4,
        llm=LLMConfig(ttft_ms=20, tokens_per_second=500, reply_tokens=12),
    )
    return base.with_overrides(**changes)


@dataclass
class Response:
    """What a test needs from a response."""

    status: int
    headers: dict[str, str]
    body: bytes
    set_cookies: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Client:
    """A browser-like client: browser User-Agent, keeps cookies, optional bearer token."""

    base_url: str
    user_agent: str = BROWSER_USER_AGENT
    token: str = ""
    cookies: dict[str, str] = field(default_factory=dict)

    def connection(self) -> http.client.HTTPConnection:
        parts = urlsplit(self.base_url)
        return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"User-Agent": self.user_agent}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers | (extra or {})

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        extra = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            extra.setdefault("Content-Type", "application/json")
        conn = self.connection()
        try:
            conn.request(method, path, body=data, headers=self.headers(extra))
            response = conn.getresponse()
            payload = response.read()
            set_cookies = response.headers.get_all("Set-Cookie") or []
            for value in set_cookies:
                cookie = http.cookies.SimpleCookie(value)
                for name, morsel in cookie.items():
                    self.cookies[name] = morsel.value
            headers = {k.lower(): v for k, v in response.getheaders()}
            return Response(response.status, headers, payload, set_cookies)
        finally:
            conn.close()

    def login(
        self, email: str = "loadtest-0@example.com", password: str = "loadtest-password"
    ) -> Response:
        response = self.request("POST", "/api/auth/login", {"email": email, "password": password})
        if response.status == 200:
            self.token = response.json()["token"]
        return response

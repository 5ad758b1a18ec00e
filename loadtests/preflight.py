"""Before the load: is the target up, and does it accept the load-test user? One clear error if not.

Uses only the standard library with the journeys' browser User-Agent, so the command-line process
stays free of locust and gevent.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from librechat_sim.useragent import BROWSER_USER_AGENT

from .errors import BadCredentialsError, TargetUnreachableError

TIMEOUT_S = 10.0


def _request(url: str, body: dict[str, str] | None = None) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"User-Agent": BROWSER_USER_AGENT, "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return int(response.status), response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def check_target(base_url: str) -> None:
    """``GET /health`` answers 200."""
    url = base_url.rstrip("/") + "/health"
    try:
        status, _ = _request(url)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TargetUnreachableError(
            f"the target {base_url} does not answer: {reason}",
            hint="check the URL and that LibreChat is running (or omit --target to use the "
            "simulator)",
        ) from None
    if status != 200:
        raise TargetUnreachableError(
            f"{url} answered HTTP {status}, not 200", hint="is this a LibreChat URL?"
        )


def check_login(base_url: str, email: str, password: str) -> None:
    """``POST /api/auth/login`` accepts the first load-test user."""
    url = base_url.rstrip("/") + "/api/auth/login"
    try:
        status, text = _request(url, {"email": email, "password": password})
    except (urllib.error.URLError, OSError) as exc:
        raise TargetUnreachableError(f"login at {url} failed: {exc}") from None
    if status == 200 and '"token"' in text:
        return
    if status == 429:
        raise BadCredentialsError(
            f"{base_url} rate-limits logins (HTTP 429): {text[:200]}",
            hint="raise LOGIN_MAX/LOGIN_WINDOW on the target for load tests, or wait",
        )
    raise BadCredentialsError(
        f"{base_url} refused the load-test user {email} (HTTP {status}): {text[:200]}",
        hint="pass a CSV of existing users with --credentials FILE (email,password per line)",
    )

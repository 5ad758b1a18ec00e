"""``POST /api/auth/login`` and ``POST /api/auth/refresh``, LibreChat's local-login flow."""

from __future__ import annotations

from aiohttp import web

from .auth import REFRESH_COOKIE, TokenUser, check_password, issue_access, issue_refresh, verify
from .replica import REPLICA, client_ip


def _with_session(response: web.Response, refresh_token: str, max_age: int) -> web.Response:
    response.set_cookie(
        REFRESH_COOKIE, refresh_token, max_age=max_age, httponly=True, samesite="Strict", path="/"
    )
    response.set_cookie("token_provider", "librechat", max_age=max_age, httponly=True, path="/")
    return response


async def login(request: web.Request) -> web.Response:
    """Check email and password; answer ``{token, user}`` and set the refresh cookie."""
    replica = request.app[REPLICA]
    config = replica.config
    attempts = await replica.store.login_attempt(client_ip(request), config.login_window_s)
    if attempts > config.login_max:
        minutes = config.login_window_s / 60
        message = f"Too many login attempts, please try again after {minutes:g} minutes."
        return web.json_response({"message": message}, status=429)
    try:
        body = await request.json()
        email, password = str(body["email"]), str(body["password"])
    except (ValueError, KeyError, TypeError):
        return web.json_response({"message": "Missing credentials"}, status=400)
    stored = await replica.store.user_by_email(email)
    if stored is None:
        return web.json_response({"message": "Email does not exist."}, status=404)
    if not check_password(password, stored.password_hash):
        return web.json_response({"message": "Incorrect password."}, status=404)
    token = issue_access(config, stored.user)
    response = web.json_response({"token": token, "user": stored.public()})
    return _with_session(response, issue_refresh(config, stored.user.id), config.refresh_expiry_s)


async def refresh(request: web.Request) -> web.Response:
    """Trade the refresh cookie for a new access token (and a rotated cookie)."""
    replica = request.app[REPLICA]
    config = replica.config
    cookie = request.cookies.get(REFRESH_COOKIE)
    if not cookie:
        return web.Response(status=200, text="Refresh token not provided")
    claims = verify(cookie, config.jwt_refresh_secret)
    if claims is None:
        return web.Response(status=403, text="Invalid refresh token")
    stored = await replica.store.user_by_id(str(claims["id"]))
    if stored is None:
        return web.Response(status=401, text="User not found")
    user: TokenUser = stored.user
    response = web.json_response({"token": issue_access(config, user), "user": stored.public()})
    return _with_session(response, issue_refresh(config, user.id), config.refresh_expiry_s)


def add_routes(app: web.Application) -> None:
    """Mount the auth routes."""
    app.router.add_post("/api/auth/login", login)
    app.router.add_post("/api/auth/refresh", refresh)

"""``POST /api/auth/login`` and ``POST /api/auth/refresh``, LibreChat's local-login flow."""

from __future__ import annotations

import uuid

from aiohttp import web

from .auth import (
    REFRESH_COOKIE,
    check_password,
    hash_token,
    issue_access,
    issue_refresh,
    verify,
)
from .replica import REPLICA, Replica, client_ip
from .store import Session, now_ms


def _with_session(response: web.Response, refresh_token: str, session: Session) -> web.Response:
    """The refresh cookie (and ``token_provider``) until the session ends, as ``setAuthTokens``."""
    max_age = max(0, (session.expires_ms - now_ms()) // 1000)
    response.set_cookie(
        REFRESH_COOKIE, refresh_token, max_age=max_age, httponly=True, samesite="Strict", path="/"
    )
    response.set_cookie("token_provider", "librechat", max_age=max_age, httponly=True, path="/")
    return response


async def _signed_in(
    replica: Replica, user_id: str, session: Session, refresh_token: str
) -> web.Response:
    """LibreChat's ``setAuthTokens`` once the session is saved: ``getUserById`` (one round trip),
    a new access token, ``{token, user}`` and the cookies."""
    stored = await replica.store.user_by_id(user_id)
    if stored is None:
        return web.Response(status=401, text="User not found")
    body = {"token": issue_access(replica.config, stored.user), "user": stored.public()}
    return _with_session(web.json_response(body), refresh_token, session)


async def login(request: web.Request) -> web.Response:
    """Check email and password; answer ``{token, user}`` and set the refresh cookie.

    LibreChat's work (``api/strategies/localStrategy.js``, ``api/server/controllers/auth/
    LoginController.js``, ``api/server/services/AuthService.js``): the login limiter, ``findUser``
    by email, bcryptjs's ``compare``, then a new session (refresh token signed, hashed, saved) and
    ``getUserById`` - four store round trips here, one per MongoDB (or limiter) call there.

    bcryptjs's asynchronous ``compare`` (``api/models/userMethods.js``) runs on Node's only thread
    in slices of up to 100 ms (``MAX_EXECUTION_TIME`` in dcodeIO/bcrypt.js ``src/bcrypt/impl.js``),
    yielding between slices: a compare at cost 10 takes one or two slices, and the process answers
    nothing else meanwhile. The ``bcrypt`` package cannot yield mid-hash, so the check runs whole
    on this replica's event loop: the same stall, in one slice.
    """
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
    expires_ms = now_ms() + config.refresh_expiry_s * 1000
    session = Session(id=uuid.uuid4().hex[:24], user_id=stored.user.id, expires_ms=expires_ms)
    refresh_token = issue_refresh(config, session.user_id, session.id, expires_ms / 1000)
    await replica.store.create_session(session, hash_token(refresh_token))
    return await _signed_in(replica, session.user_id, session, refresh_token)


async def refresh(request: web.Request) -> web.Response:
    """Trade the refresh cookie for a new access token and a rotated cookie.

    LibreChat's ``refreshController`` (``api/server/controllers/AuthController.js``): verify the
    refresh JWT, ``getUserById``, ``findSession`` by the token's SHA-256, then ``setAuthTokens``
    with that session: a new refresh token signed and its hash saved over the old one, then
    ``getUserById`` again and a new access token - four store round trips, two SHA-256 digests.
    An old refresh token is refused once its session has moved on (401).
    """
    replica = request.app[REPLICA]
    config = replica.config
    cookie = request.cookies.get(REFRESH_COOKIE)
    if not cookie:
        return web.Response(status=200, text="Refresh token not provided")
    claims = verify(cookie, config.jwt_refresh_secret)
    if claims is None:
        return web.Response(status=403, text="Invalid refresh token")
    user_id = str(claims.get("id"))
    if await replica.store.user_by_id(user_id) is None:
        return web.Response(status=401, text="User not found")
    old_hash = hash_token(cookie)
    session = await replica.store.find_session(user_id, old_hash)
    if session is None:
        if request.query.get("retry"):
            return web.Response(status=403, text="No session found")
        return web.Response(status=401, text="Refresh token expired or not found for this user")
    new_token = issue_refresh(config, user_id, session.id, session.expires_ms / 1000)
    await replica.store.rotate_session(session, old_hash, hash_token(new_token))
    return await _signed_in(replica, user_id, session, new_token)


def add_routes(app: web.Application) -> None:
    """Mount the auth routes."""
    app.router.add_post("/api/auth/login", login)
    app.router.add_post("/api/auth/refresh", refresh)

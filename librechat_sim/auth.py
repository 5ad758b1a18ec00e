"""Tokens and passwords the way LibreChat issues them: a short JWT plus a refresh-token cookie."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from .config import SimConfig

REFRESH_COOKIE = "refreshToken"
"""LibreChat's httpOnly cookie that carries the refresh token."""

_PBKDF2_ROUNDS = 1000


@dataclass(frozen=True)
class TokenUser:
    """The claims LibreChat puts in its access token."""

    id: str
    """The user's id."""

    email: str
    """The user's email."""

    username: str
    """The user's name."""


def hash_password(password: str, salt: str | None = None) -> str:
    """``salt$hexdigest`` with PBKDF2-SHA256 (LibreChat uses bcrypt; the cost here is lower)."""
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), _PBKDF2_ROUNDS)
    return f"{salt}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """True when ``password`` matches the ``stored`` hash."""
    salt, _, _digest = stored.partition("$")
    return hmac.compare_digest(hash_password(password, salt), stored)


def issue_access(config: SimConfig, user: TokenUser, now: float | None = None) -> str:
    """A signed access token (HS256, ``JWT_SECRET``, ``SESSION_EXPIRY``)."""
    issued = int(now if now is not None else time.time())
    claims = {
        "id": user.id,
        "username": user.username,
        "provider": "local",
        "email": user.email,
        "iat": issued,
        "exp": issued + config.session_expiry_s,
    }
    return jwt.encode(claims, config.jwt_secret, algorithm="HS256")


def issue_refresh(config: SimConfig, user_id: str, now: float | None = None) -> str:
    """A signed refresh token (``JWT_REFRESH_SECRET``), with a nonce so each one is unique."""
    issued = int(now if now is not None else time.time())
    claims = {
        "id": user_id,
        "sessionId": secrets.token_hex(8),
        "iat": issued,
        "exp": issued + config.refresh_expiry_s,
    }
    return jwt.encode(claims, config.jwt_refresh_secret, algorithm="HS256")


def verify(token: str, secret: str) -> dict[str, Any] | None:
    """The token's claims, or None when it is malformed, forged or expired."""
    try:
        claims: dict[str, Any] = jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    return claims

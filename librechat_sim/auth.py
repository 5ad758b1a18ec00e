"""Tokens and passwords the way LibreChat issues them: a short JWT plus a refresh-token cookie.

Passwords are bcrypt hashes at LibreChat's cost (:data:`~librechat_sim.costs.BCRYPT_COST`). A
refresh token names its session; the session keeps only the token's SHA-256 (LibreChat's
``hashToken``, danny-avila/LibreChat ``packages/data-schemas/src/crypto/index.ts``), and each
refresh signs a new token for the same session and replaces the hash, so the old token is refused
(``packages/data-schemas/src/methods/session.ts`` ``generateRefreshToken``).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

import bcrypt
import jwt

from .config import SimConfig
from .costs import BCRYPT_COST

REFRESH_COOKIE = "refreshToken"
"""LibreChat's httpOnly cookie that carries the refresh token."""

_BCRYPT_MAX_BYTES = 72
"""bcrypt reads at most 72 bytes of a password; bcryptjs ignores the rest, as here (the ``bcrypt``
package refuses longer input from version 5)."""


@dataclass(frozen=True)
class TokenUser:
    """The claims LibreChat puts in its access token."""

    id: str
    """The user's id."""

    email: str
    """The user's email."""

    username: str
    """The user's name."""


def hash_password(password: str) -> str:
    """A bcrypt hash (``$2b$10$...``) at LibreChat's cost, as ``registerUser`` stores it."""
    encoded = password.encode()[:_BCRYPT_MAX_BYTES]
    return bcrypt.hashpw(encoded, bcrypt.gensalt(BCRYPT_COST)).decode()


def check_password(password: str, stored: str) -> bool:
    """True when ``password`` matches the bcrypt hash ``stored``: the whole bcrypt cost, on the
    calling thread (see :func:`librechat_sim.routes_auth.login` for why that is the event loop)."""
    try:
        return bcrypt.checkpw(password.encode()[:_BCRYPT_MAX_BYTES], stored.encode())
    except ValueError:  # not a bcrypt hash: nothing matches it
        return False


def hash_token(token: str) -> str:
    """The SHA-256 hex digest a session keeps of its refresh token (LibreChat's ``hashToken``)."""
    return hashlib.sha256(token.encode()).hexdigest()


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


def issue_refresh(
    config: SimConfig, user_id: str, session_id: str, expires_at: float, now: float | None = None
) -> str:
    """A signed refresh token (``JWT_REFRESH_SECRET``) for ``session_id``, valid until the
    session's expiry ``expires_at`` (epoch seconds), as LibreChat's ``generateRefreshToken``. A
    ``jti`` nonce keeps two tokens of one session signed in the same second apart (LibreChat's
    would be equal then, and rotating would keep the old one valid)."""
    issued = int(now if now is not None else time.time())
    claims = {
        "id": user_id,
        "sessionId": session_id,
        "iat": issued,
        "exp": int(expires_at),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, config.jwt_refresh_secret, algorithm="HS256")


def verify(token: str, secret: str) -> dict[str, Any] | None:
    """The token's claims, or None when it is malformed, forged or expired."""
    try:
        claims: dict[str, Any] = jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    return claims

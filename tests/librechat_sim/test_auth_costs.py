"""Logins, refreshes and token checks do LibreChat's work: bcrypt at cost 10, sessions keyed by the
refresh token's hash and rotated on refresh, and a user lookup on every authenticated request."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import bcrypt
import pytest
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from librechat_sim.auth import TokenUser, check_password, hash_password
from librechat_sim.description import ClusterInfo
from librechat_sim.store import Store
from tests.simclient import Client

pytestmark = pytest.mark.e2e

PASSWORD = "loadtest-password"


def test_passwords_are_bcrypt_hashes_at_librechats_cost() -> None:
    stored = hash_password("s3cret")
    assert stored.startswith("$2b$10$")
    assert check_password("s3cret", stored)
    assert not check_password("s3cre", stored)
    assert not check_password("s3cret", "salt$not-a-bcrypt-hash")
    # bcryptjs reads the first 72 bytes of a password; so does the simulator.
    long = "x" * 72
    assert check_password(long + "ignored", hash_password(long + "also ignored"))


def test_seeded_users_are_stored_with_bcrypt(sim: ClusterInfo) -> None:
    redis = Redis(port=sim.config.redis_port, decode_responses=True)
    try:
        stored: Any = redis.hget(f"{sim.config.key_prefix}user:loadtest-0@example.com", "pw")
    finally:
        redis.close()
    assert str(stored).startswith("$2b$10$")
    assert bcrypt.checkpw(PASSWORD.encode(), str(stored).encode())


def test_a_login_costs_at_least_a_bcrypt_check(sim: ClusterInfo) -> None:
    """PBKDF2 at 1,000 rounds (the old stand-in) took 0.3 ms; bcrypt at cost 10 takes ~100 ms."""
    stored = hash_password(PASSWORD)
    checks = []
    for _ in range(3):
        started = time.perf_counter()
        bcrypt.checkpw(PASSWORD.encode(), stored.encode())
        checks.append(time.perf_counter() - started)
    logins = []
    for _ in range(3):
        started = time.perf_counter()
        assert Client(sim.url).login().status == 200
        logins.append(time.perf_counter() - started)
    assert min(logins) >= 0.5 * min(checks), (logins, checks)


def test_refresh_rotates_the_session_and_refuses_the_old_token(sim: ClusterInfo) -> None:
    client = Client(sim.url)
    client.login()
    first = client.cookies["refreshToken"]
    refreshed = client.request("POST", "/api/auth/refresh")
    assert refreshed.status == 200
    second = client.cookies["refreshToken"]
    assert second != first
    stale = Client(sim.url, cookies={"refreshToken": first})
    refused = stale.request("POST", "/api/auth/refresh")
    assert (refused.status, refused.body) == (
        401,
        b"Refresh token expired or not found for this user",
    )
    retried = stale.request("POST", "/api/auth/refresh?retry=true")
    assert (retried.status, retried.body) == (403, b"No session found")
    again = client.request("POST", "/api/auth/refresh")
    assert again.status == 200
    assert again.json()["token"].count(".") == 2
    assert client.cookies["refreshToken"] not in {first, second}


def test_each_login_is_its_own_session(sim: ClusterInfo) -> None:
    one, two = Client(sim.url), Client(sim.url)
    one.login()
    two.login()
    assert one.request("POST", "/api/auth/refresh").status == 200
    assert two.request("POST", "/api/auth/refresh").status == 200


def test_a_refresh_does_librechats_store_work(sim: ClusterInfo) -> None:
    """refreshController: getUserById, findSession by the token's hash, the session saved with the
    new hash, getUserById again - four round trips, the save a MULTI of DEL and SET."""
    client = Client(sim.url)
    client.login()
    redis = Redis(port=sim.config.redis_port, decode_responses=True)
    try:
        before = _calls(redis)
        assert client.request("POST", "/api/auth/refresh").status == 200
        after = _calls(redis)
    finally:
        redis.close()
    spent = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    spent = {k: v for k, v in spent.items() if v and k not in {"info"}}
    assert spent == {"hgetall": 2, "get": 1, "multi": 1, "del": 1, "set": 1, "exec": 1}


def _calls(redis: Redis) -> dict[str, int]:
    stats: Any = redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def test_a_token_of_a_deleted_user_is_refused(sim: ClusterInfo) -> None:
    """LibreChat's JWT strategy looks the user up on every request: deleting the user ends its
    tokens (access and refresh) at once, though they have not expired."""
    email = "leaving@example.com"
    user = asyncio.run(_add_user(sim, email))
    client = Client(sim.url)
    assert client.login(email, "bye").status == 200
    assert client.request("GET", "/api/convos").status == 200
    asyncio.run(_delete_user(sim, user))
    assert client.request("GET", "/api/convos").status == 401
    assert client.request("POST", "/api/auth/refresh").status == 401
    assert Client(sim.url).login(email, "bye").status == 404


async def _add_user(sim: ClusterInfo, email: str) -> TokenUser:
    redis = AsyncRedis(port=sim.config.redis_port, decode_responses=True)
    try:
        return await Store(redis, sim.config.key_prefix).add_user(
            email, "leaving", hash_password("bye")
        )
    finally:
        await redis.aclose()


async def _delete_user(sim: ClusterInfo, user: TokenUser) -> None:
    redis = AsyncRedis(port=sim.config.redis_port, decode_responses=True)
    try:
        await Store(redis, sim.config.key_prefix).delete_user(user)
    finally:
        await redis.aclose()

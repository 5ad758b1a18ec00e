"""What the simulator's authentication costs, printed (not asserted).

bcrypt at LibreChat's cost (hash and check, this process), then against a fresh simulator on free
loopback ports, one request at a time: the password login (bcrypt), the refresh (the token path:
JWT, four store round trips, two SHA-256) and an authenticated ``GET /api/convos`` (JWT plus the
user lookup). The mock LLM is not involved. Cores are shared with the simulator's processes.

    .venv/bin/python -P benchmarks/simulator_auth.py [--logins 20] [--refreshes 300]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import bcrypt
import requests

from librechat_sim.cluster import Cluster
from librechat_sim.config import LLMConfig, SimConfig
from librechat_sim.costs import BCRYPT_COST
from librechat_sim.useragent import BROWSER_USER_AGENT


def _ms(action: Callable[[], object], times: int) -> list[float]:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def _line(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (
        f"{name:<22} n={len(values):<4} median {statistics.median(values):7.2f} ms  P99 {p99:7.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logins", type=int, default=20)
    parser.add_argument("--refreshes", type=int, default=300)
    args = parser.parse_args()
    password = b"loadtest-password"
    stored = bcrypt.hashpw(password, bcrypt.gensalt(BCRYPT_COST))
    print(
        _line(
            f"bcrypt hash (cost {BCRYPT_COST})",
            _ms(lambda: bcrypt.hashpw(password, bcrypt.gensalt(BCRYPT_COST)), 10),
        )
    )
    print(_line("bcrypt check", _ms(lambda: bcrypt.checkpw(password, stored), 10)))
    config = SimConfig(
        state_dir=Path(tempfile.mkdtemp(prefix="sim-auth-")),
        front_port=0, replica_base_port=0, redis_port=0, llm_port=0, replicas=2, seed_users=4,
        llm=LLMConfig(ttft_ms=20, tokens_per_second=500, reply_tokens=12),
    )  # fmt: skip
    with Cluster(config) as info, requests.Session() as session:
        session.headers["User-Agent"] = BROWSER_USER_AGENT
        body = {"email": "loadtest-0@example.com", "password": "loadtest-password"}

        def login() -> None:
            response = session.post(f"{info.url}/api/auth/login", json=body, timeout=30)
            session.headers["Authorization"] = f"Bearer {response.json()['token']}"

        def refresh() -> None:
            response = session.post(f"{info.url}/api/auth/refresh", timeout=30)
            session.headers["Authorization"] = f"Bearer {response.json()['token']}"

        print(_line("POST /api/auth/login", _ms(login, args.logins)))
        print(_line("POST /api/auth/refresh", _ms(refresh, args.refreshes)))
        url = f"{info.url}/api/convos?limit=5"
        print(_line("GET /api/convos", _ms(lambda: session.get(url, timeout=30), args.refreshes)))


if __name__ == "__main__":
    main()

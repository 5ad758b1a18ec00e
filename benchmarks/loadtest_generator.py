"""Load-generator and simulator throughput, printed (not asserted).

Starts the simulator on free loopback ports, then on ``/health``, in the same run:
- Locust (one FastHttpUser process, no think time): requests per second, and per CPU second the
  Locust process spent while the test ran (= per generator core);
- wrk (Debian ``/usr/bin/wrk``, one thread): the same two figures;
each against one replica directly and against haproxy in front of the replicas (simulator
throughput). Every run is bounded by ``--duration``. The machine's cores are shared by the
generator and the simulator, so the figures are lower bounds for either alone.

    .venv/bin/python -P benchmarks/loadtest_generator.py [--duration 8] [--replicas 2] [--users 20]

(``-P``: benchmarks/platform.py would otherwise shadow the standard library's ``platform``.)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from librechat_sim.cluster import Cluster
from librechat_sim.config import SimConfig

HEALTH_LOCUSTFILE = Path(__file__).resolve().parent.parent / "loadtests/locustfiles/health.py"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(argv: list[str], timeout: float) -> tuple[str, float, float]:
    """Run ``argv``; return its output, wall seconds and CPU seconds."""
    cpu_before, started = _children_cpu(), time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    return done.stdout + done.stderr, time.monotonic() - started, _children_cpu() - cpu_before


def locust(url: str, users: int, duration: int) -> tuple[float, float]:
    """(requests/s, requests per CPU second) of one Locust process, start-up not counted."""
    with tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "figures.json"
        argv = [
            sys.executable, "-m", "locust", "-f", str(HEALTH_LOCUSTFILE), "--headless",
            "--host", url, "-u", str(users), "-r", str(users), "-t", f"{duration}s",
            "--only-summary", "--loglevel", "WARNING", "--bench-results", str(figures),
        ]  # fmt: skip
        out, _wall, _cpu = run_measured(argv, timeout=duration + 60)
        if not figures.exists():
            raise SystemExit(f"locust gave no figures:\n{out}")
        data = json.loads(figures.read_text())
    rate = data["requests"] / data["wall_s"]
    return rate, data["requests"] / data["cpu_s"] if data["cpu_s"] else 0.0


def wrk(url: str, connections: int, duration: int) -> tuple[float, float]:
    """(requests/s, requests per CPU second) of one wrk thread."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", url + "/health"]
    out, _wall, cpu = run_measured(argv, timeout=duration + 30)
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise SystemExit(f"wrk gave no figure:\n{out}")
    rate = float(match.group(1))
    return rate, rate * duration / cpu if cpu else 0.0


def main() -> None:
    """Bring up the simulator, measure, print a table, stop everything."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=8, help="seconds per measurement")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--users", type=int, default=20, help="Locust users / wrk connections")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        config = SimConfig(
            state_dir=Path(state), front_port=0, replica_base_port=0, redis_port=0, llm_port=0,
            replicas=args.replicas, seed_users=1,
        )  # fmt: skip
        with Cluster(config) as info:
            direct = f"http://127.0.0.1:{info.replica_ports[0]}"
            rows = []
            for label, url in (("one replica", direct), (f"haproxy + {args.replicas}", info.url)):
                rows.append(("locust (1 process)", label, *locust(url, args.users, args.duration)))
                rows.append(("wrk (1 thread)", label, *wrk(url, args.users, args.duration)))
    print(f"GET /health, {args.duration}s each, {args.users} users or connections")
    print(f"{os.cpu_count()} cores, shared by the generator and the simulator")
    print(f"{'generator':20} {'target':14} {'req/s':>10} {'req/s per generator core':>26}")
    for generator, target, rate, per_core in rows:
        print(f"{generator:20} {target:14} {rate:10.0f} {per_core:26.0f}")
    print(
        json.dumps(
            [
                dict(zip(("generator", "target", "rps", "rps_per_core"), r, strict=True))
                for r in rows
            ]
        )
    )


if __name__ == "__main__":
    main()

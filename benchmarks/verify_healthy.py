"""How often ``verify`` passes a healthy system through the four default faults, printed (not
asserted).

Each run is the real command with its own state directory: ``librechat-ops verify --users 30
--duration 100s`` (the four default faults at 20, 40, 60 and 80 s; the slow LLM held 5 s instead
of 30 s so the last fault starts before the load ends), judged by the shipped SLO file. Printed
per run: the verdict, the time it took and every reason the scorecard gives; at the end, how many
runs passed outright and how many passed on faults and messages alone (their only reasons the
steady-state ``SLO`` lines: at 30 users this machine runs past the capacity the seed's latency
targets hold at, see the README). A run takes about 3 minutes.

    .venv/bin/python -P benchmarks/verify_healthy.py [--runs 5] [--users 30] [--duration 100s]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(index: int, users: int, duration: str, root: Path) -> tuple[bool, list[str], float]:
    """One verify run: (passed, the scorecard's reasons, seconds)."""
    report = root / f"run{index}" / "report"
    env = os.environ | {
        "LIBRECHAT_OPS_STATE": str(root / f"run{index}" / "state"),
        "LLM_LATENCY_FOR_S": "5",
        "COLUMNS": "200",
    }
    argv = [sys.executable, "-m", "librechat_ops", "verify", "--users", str(users)]
    argv += ["--duration", duration, "--report", str(report)]
    started = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    spent = time.monotonic() - started
    card_path = report / "scorecard.json"
    if not card_path.is_file():
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        return False, ["no scorecard: " + " | ".join(tail)], spent
    card = json.loads(card_path.read_text())
    return bool(card["passed"]), [str(r) for r in card["reasons"]], spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--duration", default="100s")
    args = parser.parse_args()
    passed = faults_only = 0
    with tempfile.TemporaryDirectory(prefix="verify-healthy-") as tmp:
        for index in range(1, args.runs + 1):
            ok, reasons, spent = _run(index, args.users, args.duration, Path(tmp))
            others = [r for r in reasons if not r.startswith("SLO ")]
            passed += ok
            faults_only += not others
            print(f"run {index}: {'PASS' if ok else 'FAIL'} in {spent:.0f} s", flush=True)
            for reason in reasons:
                print(f"    {reason}", flush=True)
    print(
        f"\n{passed}/{args.runs} runs passed; {faults_only}/{args.runs} passed on faults and "
        "messages (steady-state SLO lines aside)"
    )


if __name__ == "__main__":
    main()

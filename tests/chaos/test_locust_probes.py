"""The Locust probes read a real Locust run's CSV statistics, during the run and after it.

A short headless Locust run (3 users, 6 s) drives a tiny loopback HTTP server: 3 requests that
succeed and 1 that fails (HTTP 500) per cycle, a fixed number of cycles per user, so the file
Locust rewrites every second ends equal to Locust's own final statistics (``--json-file``).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chaos.errors import ChaosError, NoDataError
from chaos.locust import probes

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

USERS, CYCLES = 3, 15

LOCUSTFILE = f"""
from locust import HttpUser, constant, task


class Probe(HttpUser):
    wait_time = constant(0.02)
    cycles = 0

    @task
    def cycle(self):
        if self.cycles >= {CYCLES}:
            return
        self.cycles += 1
        for _ in range(3):
            self.client.get("/ok")
        self.client.get("/fail")
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/ok" else 500
        body = b"ok\n" if status == 200 else b"boom\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(scope="module")
def run(server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run Locust; record what the probes read mid-run; return the paths and Locust's JSON."""
    work = tmp_path_factory.mktemp("locust")
    (work / "locustfile.py").write_text(LOCUSTFILE)
    prefix = work / "run"
    argv = [
        sys.executable, "-m", "locust", "-f", str(work / "locustfile.py"), "--headless",
        "--host", server, "-u", str(USERS), "-r", str(USERS), "--run-time", "6s",
        "--csv", str(prefix), "--json-file", str(work / "final"), "--loglevel", "WARNING",
        "--exit-code-on-error", "0",
    ]  # fmt: skip
    mid_run: list[int] = []
    with (work / "locust.log").open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=work)
        try:
            while process.poll() is None:
                with contextlib.suppress(ChaosError):  # not written yet
                    mid_run.append(probes.requests(str(prefix)))
                time.sleep(0.3)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 0, (work / "locust.log").read_text()
    final = json.loads((work / "final.json").read_text())
    return {"prefix": str(prefix), "csv": f"{prefix}_stats.csv", "final": final, "mid": mid_run}


def _locust_percentile(response_times: Counter[int], fraction: float) -> int:
    """Locust's own percentile rule (locust.stats.calculate_response_time_percentile)."""
    total = sum(response_times.values())
    wanted = int(total * fraction)
    processed = 0
    for rt in sorted(response_times, reverse=True):
        processed += response_times[rt]
        if total - processed <= wanted:
            return rt
    return 0


def test_probes_agree_with_locusts_final_statistics(run: dict[str, Any]) -> None:
    entries = {e["name"]: e for e in run["final"]}
    total = sum(e["num_requests"] for e in entries.values())
    failed = sum(e["num_failures"] for e in entries.values())
    assert total == USERS * CYCLES * 4
    assert probes.requests(run["csv"]) == total
    assert probes.failure_ratio(run["csv"]) == pytest.approx(failed / total) == 0.25
    assert probes.requests(run["prefix"], "/ok") == entries["/ok"]["num_requests"]
    assert probes.failure_ratio(run["csv"], "/fail", "GET") == 1.0
    assert probes.failure_ratio(run["csv"], "/ok") == 0.0
    merged: Counter[int] = Counter()
    for entry in entries.values():
        merged.update({int(k): v for k, v in entry["response_times"].items()})
    for fraction in (0.5, 0.95, 0.99):
        assert probes.percentile_ms(run["csv"], fraction) == _locust_percentile(merged, fraction)
    assert probes.requests_per_second(run["csv"]) > 0


def test_probes_read_the_file_while_locust_writes_it(run: dict[str, Any]) -> None:
    seen = [n for n in run["mid"] if n > 0]
    assert seen, "the stats file was never readable during the run"
    assert seen == sorted(seen)  # monotonic: never a half-written, smaller count


def test_mistakes_are_clear_errors(run: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(ChaosError, match="does not exist") as missing:
        probes.failure_ratio(str(tmp_path / "nothing_stats.csv"))
    assert "--csv PREFIX" in missing.value.hint
    with pytest.raises(NoDataError, match="no request named '/nope'"):
        probes.requests(run["csv"], "/nope")
    with pytest.raises(ChaosError, match=r"no column '12\.5%'"):
        probes.percentile_ms(run["csv"], 0.125)
    with pytest.raises(ChaosError, match="fraction"):
        probes.percentile_ms(run["csv"], 99)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(ChaosError, match="not a Locust stats file"):
        probes.requests(str(other))

"""``librechat-ops loadtest``: every journey runs against the simulator; the gate passes and fails.

These run the real command (Locust in subprocesses, the simulator on free ports) with a few users
for a few seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from librechat_sim.description import ClusterInfo
from librechat_sim.processes import free_port
from slos import definition
from tests.commands import run_cli

pytestmark = pytest.mark.e2e

JOURNEYS = set(definition.JOURNEYS)


def verdict_of(report: Path) -> dict[str, dict[str, object]]:
    data = json.loads((report / "verdict.json").read_text())
    return {j["journey"]: j for j in data["journeys"]}


def locust_exit_code(report: Path) -> int:
    """The exit code of Locust itself: its in-process gate (what a Kubernetes Job sees)."""
    code: int = json.loads((report / "verdict.json").read_text())["locust_exit_code"]
    return code


def test_every_journey_runs_and_the_gate_passes(tmp_path: Path, lenient_profiles: Path) -> None:
    report = tmp_path / "report"
    result = run_cli(
        "loadtest", "--profile", "laptop", "--slo-file", str(lenient_profiles),
        "--users", "3", "--duration", "8s", "--report", str(report), "--warmup", "0s",
        "--sim-ttft-ms", "20", "--sim-tokens-per-second", "1000",
        state=tmp_path / "state",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SLO verdict: PASS" in result.stdout
    assert "warm-up" not in result.stdout
    assert locust_exit_code(report) == 0
    journeys = verdict_of(report)
    assert set(journeys) == JOURNEYS
    for name, journey in journeys.items():
        assert journey["requests"], name
        assert journey["failures"] == 0, (name, journey)
    assert journeys["ai_inference"]["passed"] is True
    ttft, total = journeys["ai_inference"]["p50_ms"], journeys["time_to_complete"]["p50_ms"]
    assert isinstance(ttft, float)
    assert isinstance(total, float)
    assert ttft < total
    html = (report / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2
    assert "Load test verdict: PASS" in html
    assert not (tmp_path / "state" / "loadtest" / "sim" / "cluster.json").exists()


def test_a_slow_llm_fails_the_ai_inference_slo(tmp_path: Path, lenient_profiles: Path) -> None:
    report = tmp_path / "report"
    result = run_cli(
        "loadtest", "--profile", "laptop", "--slo-file", str(lenient_profiles),
        "--users", "2", "--duration", "8s", "--report", str(report), "--warmup", "1s",
        "--sim-ttft-ms", "1700", "--sim-tokens-per-second", "1000",
        state=tmp_path / "state",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "SLO verdict: FAIL" in result.stdout
    # Every reply takes over 1.7 s, so each user's first one ends after the 1 s warm-up.
    assert "The first 1 s (the warm-up" in result.stdout
    assert locust_exit_code(report) == 1  # the gate leaves the same second out
    verdict = json.loads((report / "verdict.json").read_text())
    assert verdict["warmup_s"] == 1
    assert verdict["warmup_requests"] > 0
    assert "The first 1 s (the warm-up" in (report / "report.html").read_text()
    journeys = verdict_of(report)
    assert journeys["ai_inference"]["passed"] is False
    assert "above the 1500 ms target" in str(journeys["ai_inference"]["reasons"])
    assert "Traceback" not in result.stderr


def test_unknown_profile_is_one_clear_error(tmp_path: Path) -> None:
    result = run_cli("loadtest", "--profile", "moon", "--report", str(tmp_path), state=tmp_path)
    assert result.returncode == 2
    assert "no SLOs for environment 'moon'" in result.stderr
    assert "choose one of: laptop, production, staging" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_target_is_one_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run_cli(
        "loadtest",
        "--profile",
        "laptop",
        "--target",
        url,
        "--report",
        str(tmp_path),
        state=tmp_path,
    )
    assert result.returncode == 2
    assert f"the target {url} does not answer" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_credentials_are_one_clear_error(tmp_path: Path, sim: ClusterInfo) -> None:
    users = tmp_path / "users.csv"
    users.write_text("loadtest-0@example.com,not-the-password\n")
    result = run_cli(
        "loadtest", "--profile", "laptop", "--target", sim.url, "--credentials", str(users),
        "--report", str(tmp_path), state=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "refused the load-test user loadtest-0@example.com (HTTP 404)" in result.stderr
    assert "--credentials" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--duration", "soon"), "cannot read duration"),
        (("--shape", "zigzag"), "unknown shape 'zigzag'"),
        (("--duration", "8s", "--warmup", "10s"), "leaves nothing of a 8s run to judge"),
        (("--credentials", "/nonexistent/users.csv"), "cannot read /nonexistent/users.csv"),
    ],
)
def test_bad_inputs_are_one_clear_error(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_cli(
        "loadtest", "--profile", "laptop", "--target", "http://127.0.0.1:9", "--report",
        str(tmp_path), *args, state=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_distributed_mode_master_and_workers(tmp_path: Path, lenient_profiles: Path) -> None:
    report = tmp_path / "report"
    result = run_cli(
        "loadtest", "--profile", "laptop", "--slo-file", str(lenient_profiles),
        "--users", "2", "--duration", "6s", "--workers", "2", "--report", str(report),
        "--warmup", "0s",
        "--sim-ttft-ms", "20", "--sim-tokens-per-second", "1000",
        state=tmp_path / "state",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    journeys = verdict_of(report)
    assert all(j["requests"] for j in journeys.values())
    results = json.loads((report / "results.json").read_text())
    assert results["samples"]  # shipped from the workers to the master
    assert results["cpu_s"] > 0

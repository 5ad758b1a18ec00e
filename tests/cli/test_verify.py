"""``librechat-ops verify``: load and faults together, one scorecard; a healthy system passes and
the deliberately broken one (no Redis persistence, one replica) fails.

These run the real command: the simulator on free ports, Locust in subprocesses, the experiments
with ``chaos run``, for about 40 s each.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.commands import run_cli

pytestmark = pytest.mark.e2e


def scorecard(report: Path) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((report / "scorecard.json").read_text())
    return card


FAULTS = ("--fault", "replica-kill-mid-stream@8s", "--fault", "redis-outage@18s")


def test_a_healthy_system_keeps_its_slos_through_the_faults(
    tmp_path: Path, lenient_profiles: Path
) -> None:
    report = tmp_path / "report"
    result = run_cli(
        "verify", "--profiles", str(lenient_profiles), "--users", "6", "--duration", "40s",
        "--report", str(report), *FAULTS, state=tmp_path / "state", timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verification: PASS" in result.stdout
    card = scorecard(report)
    assert card["passed"] is True
    assert [f["experiment"] for f in card["faults"]] == ["replica-kill-mid-stream", "redis-outage"]
    for fault in card["faults"]:
        assert fault["hypothesis"] == "held"
        assert fault["rollbacks_ok"] is True
        assert fault["time_to_recover_s"] is not None
        assert fault["budget_consumed_pct"] <= 0.5
    assert card["messages"]["chats"] > 10
    assert card["messages"]["lost"] == 0
    assert card["messages"]["duplicated"] == 0
    assert {s["journey"] for s in card["slos"]} >= {"authentication", "ai_inference"}
    for name in ("scorecard.html", "traffic.png", "latency.png", "budget.png", "ledger.jsonl"):
        assert (report / name).stat().st_size > 0, name
    journals = sorted(p.name for p in (report / "faults").glob("*.journal.json"))
    assert journals == ["redis-outage.journal.json", "replica-kill-mid-stream.journal.json"]
    assert not (tmp_path / "state" / "verify" / "sim" / "cluster.json").exists()


def test_the_broken_system_fails_the_verdict(tmp_path: Path, lenient_profiles: Path) -> None:
    report = tmp_path / "report"
    result = run_cli(
        "verify", "--profiles", str(lenient_profiles), "--users", "6", "--duration", "40s",
        "--replicas", "1", "--regions", "1", "--no-redis-persistence",
        "--report", str(report), *FAULTS, state=tmp_path / "state", timeout=300,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "verification: FAIL" in result.stdout
    assert "Traceback" not in result.stderr
    card = scorecard(report)
    assert card["passed"] is False
    assert card["messages"]["lost"] > 0
    faults = {f["experiment"]: f for f in card["faults"]}
    assert faults["redis-outage"]["hypothesis"] == "deviated"
    assert faults["replica-kill-mid-stream"]["hypothesis"] == "deviated"
    assert any("lost" in reason for reason in card["reasons"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--fault", "no-such-experiment"), "no experiment named 'no-such-experiment'"),
        (("--fault", "redis-outage@2m", "--duration", "60s"), "after the 60s run ends"),
        (("--env", "production"), "only the laptop is verified end to end"),
        (("--fault", "region-failover-local", "--regions", "1"), "needs two simulated regions"),
        (("--duration", "soon"), "Invalid value"),
    ],
)
def test_bad_inputs_are_one_clear_error(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_cli("verify", *args, "--report", str(tmp_path / "r"), state=tmp_path, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stdout + result.stderr
    assert "Traceback" not in result.stderr

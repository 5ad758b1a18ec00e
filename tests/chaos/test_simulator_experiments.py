"""The simulator's experiments, run for real with ``chaos run`` against a running simulator: a
healthy system keeps its steady state; the deliberately broken one (no Redis persistence, one
replica) deviates; the rollbacks leave every process running again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chaos.errors import ChaosError
from chaos.simulator import actions, probes
from chaos.simulator.state import Simulator, paused, running
from librechat_sim.cluster import Cluster
from librechat_sim.config import LLMConfig
from librechat_sim.description import ClusterInfo
from librechat_sim.processes import alive
from tests.simclient import sim_config
from tests.waiting import wait_until

EXPERIMENTS = Path(__file__).parents[2] / "chaos" / "experiments"
CHAOS = str(Path(sys.executable).parent / "chaos")
SLOW_LLM = LLMConfig(ttft_ms=50, tokens_per_second=60, reply_tokens=20)
"""About 0.4 s per reply: long enough to cut one in the middle."""


def run_experiment(name: str, state: Path, tmp_path: Path, **env: str) -> dict[str, Any]:
    """``chaos run`` the experiment against the simulator under ``state``; returns the journal."""
    journal = tmp_path / f"{name}.journal.json"
    environ = os.environ | {"LIBRECHAT_OPS_STATE": str(state)} | env
    result = subprocess.run(
        [CHAOS, "--log-file", str(tmp_path / "chaostoolkit.log"), "run",
         "--rollback-strategy=always", "--journal-path", str(journal),
         str(EXPERIMENTS / f"{name}.json")],
        env=environ, cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert journal.exists(), result.stdout + result.stderr
    document: dict[str, Any] = json.loads(journal.read_text())
    return document


def rolled_back(journal: dict[str, Any]) -> bool:
    """Every rollback ran and succeeded."""
    return bool(journal["rollbacks"]) and all(
        r["status"] == "succeeded" for r in journal["rollbacks"]
    )


def all_alive(info: ClusterInfo) -> bool:
    """Every process of the simulator runs (read again: rollbacks restart processes)."""
    from librechat_sim.description import load  # noqa: PLC0415

    return all(alive(c) for c in load(info.config.state_dir).children)


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterInfo]:
    """Four replicas in two regions, Redis with persistence."""
    config = sim_config(tmp_path_factory.mktemp("sim"), replicas=4, regions=2, llm=SLOW_LLM)
    with Cluster(config) as info:
        yield info


@pytest.fixture
def broken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterInfo]:
    """The deliberately broken system: one replica, Redis without persistence (one per test: a
    Redis outage leaves it without users)."""
    config = sim_config(
        tmp_path_factory.mktemp("sim"), replicas=1, redis_persistence=False, llm=SLOW_LLM
    )
    with Cluster(config) as info:
        yield info


def test_replica_kill_mid_stream_loses_nothing(healthy: ClusterInfo, tmp_path: Path) -> None:
    journal = run_experiment("replica-kill-mid-stream", healthy.config.state_dir, tmp_path)
    assert journal["status"] == "completed"
    assert journal["deviated"] is False
    killed = journal["run"][0]["output"]
    assert killed["replica"] == "r1"
    assert killed["received"] == 3
    after = {p["activity"]["name"]: p for p in journal["steady_states"]["after"]["probes"]}
    assert after["cut-replies-delivered-once"]["output"] is True
    assert rolled_back(journal)
    assert all_alive(healthy)


def test_redis_outage_loses_no_conversation(healthy: ClusterInfo, tmp_path: Path) -> None:
    journal = run_experiment(
        "redis-outage", healthy.config.state_dir, tmp_path, LIBRECHAT_CHAOS_OUTAGE_S="2"
    )
    assert journal["status"] == "completed"
    assert journal["deviated"] is False
    assert rolled_back(journal)
    assert all_alive(healthy)


def test_losing_region_a_fails_over_to_region_b(healthy: ClusterInfo, tmp_path: Path) -> None:
    journal = run_experiment(
        "region-failover-local",
        healthy.config.state_dir,
        tmp_path,
        LIBRECHAT_CHAOS_REGION_DOWN_S="1",
    )
    assert journal["status"] == "completed"
    assert journal["deviated"] is False
    during = {r["activity"]["name"]: r for r in journal["run"]}
    assert during["take-the-primary-region-down"]["output"] == ["r1", "r2"]
    assert during["chats-still-arrive-whole-and-once"]["output"] is True
    assert rolled_back(journal)
    assert all_alive(healthy)


def test_broken_system_loses_the_conversation_in_a_redis_outage(
    broken: ClusterInfo, tmp_path: Path
) -> None:
    journal = run_experiment(
        "redis-outage", broken.config.state_dir, tmp_path, LIBRECHAT_CHAOS_OUTAGE_S="1"
    )
    assert journal["deviated"] is True
    after = {p["activity"]["name"]: p for p in journal["steady_states"]["after"]["probes"]}
    assert after["the-canary-conversation-survives"]["output"] is False
    assert rolled_back(journal)
    assert all_alive(broken)


def test_broken_system_loses_the_cut_reply_with_one_replica(
    broken: ClusterInfo, tmp_path: Path
) -> None:
    journal = run_experiment("replica-kill-mid-stream", broken.config.state_dir, tmp_path)
    assert journal["deviated"] is True
    assert rolled_back(journal)
    assert all_alive(broken)


def test_missing_simulator_is_a_clear_probe_failure(tmp_path: Path) -> None:
    from chaos.errors import UnreachableError  # noqa: PLC0415

    with pytest.raises(UnreachableError, match="no simulator is running"):
        probes.process_running("redis", configuration={"sim_state_dir": str(tmp_path)})


def test_a_new_simulator_forgets_what_experiments_noted_about_the_last_one(tmp_path: Path) -> None:
    stale = tmp_path / "sim" / "chaos" / "cut-streams" / "gone.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    with Cluster(sim_config(tmp_path, replicas=1)):
        assert not stale.exists()
        assert probes.cut_replies_delivered_once(configuration={"sim_state_dir": str(tmp_path)})


def test_pause_resume_and_kill_a_replica_then_restore_everything(healthy: ClusterInfo) -> None:

    conf = {"sim_state_dir": str(healthy.config.state_dir)}
    sim = Simulator(healthy.config.state_dir)
    assert actions.pause_process("r1", configuration=conf) == "r1"
    # The kernel marks it stopped once the signal is delivered: not always at once.
    wait_until(lambda: paused(sim.find("r1")), 5, "r1 to stop")
    assert probes.replicas_running(configuration=conf) == 4  # frozen, not gone
    assert actions.resume_process("r1", configuration=conf) == "r1"
    assert not paused(sim.find("r1"))
    assert probes.front_status(configuration=conf) == 200
    actions.pause_process("r2", seconds=0.5, configuration=conf)
    assert not paused(sim.find("r2"))  # it let r2 run again by itself
    assert actions.kill_replica("r3", configuration=conf) == "r3"
    assert not running(sim.find("r3"))
    assert probes.replicas_running(configuration=conf) == 3
    with pytest.raises(ChaosError, match="r3 is not running"):
        actions.pause_process("r3", configuration=conf)
    with pytest.raises(ChaosError, match="redis is not an API replica"):
        actions.kill_replica("redis", configuration=conf)
    actions.pause_process("r4", configuration=conf)
    assert actions.restore_all(configuration=conf) == ["r3"]
    assert not paused(Simulator(healthy.config.state_dir).find("r4"))
    assert probes.replicas_running(configuration=conf) == 4
    assert all_alive(healthy)

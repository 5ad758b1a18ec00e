"""Network faults through a real Toxiproxy between the simulator's replicas and their upstreams.

One simulator (2 replicas, its own Redis and mock LLM, Toxiproxy built from the Go module proxy)
on free loopback ports serves the module; every test leaves Toxiproxy without toxics.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from chaoslib.discovery.discover import discover_actions, discover_probes

from chaos.errors import ChaosError, TargetNotFoundError, UnreachableError
from chaos.network import actions, probes
from chaos.simulator.chat import ChatClient
from librechat_sim import faultproxy
from librechat_sim.cluster import Cluster
from librechat_sim.config import LLMConfig, SimConfig
from librechat_sim.description import ClusterInfo
from librechat_sim.errors import PortConflictError, ProgramMissingError
from librechat_sim.faultproxy import LLM_PROXY, REDIS_PROXY
from localplatform import toxiproxy
from localplatform.errors import BuildError
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
EXPERIMENTS = REPO / "chaos" / "experiments"
CHAOS = str(Path(sys.executable).with_name("chaos"))
USER, PASSWORD = "loadtest-0@example.com", "loadtest-password"


@pytest.fixture(scope="module")
def sim(toxiproxy_server: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterInfo]:
    """A simulator whose replicas reach Redis and the LLM through Toxiproxy; always stopped."""
    config = SimConfig(
        state_dir=tmp_path_factory.mktemp("netsim"),
        front_port=0,
        replica_base_port=0,
        redis_port=0,
        llm_port=0,
        toxiproxy=str(toxiproxy_server),
        toxiproxy_port=0,
        replicas=2,
        seed_users=2,
        seed_conversations=2,
        llm=LLMConfig(ttft_ms=20, tokens_per_second=500, reply_tokens=12),
    )
    with Cluster(config) as info:
        yield info


@pytest.fixture
def conf(sim: ClusterInfo) -> Iterator[dict[str, Any]]:
    """The experiment configuration for ``sim``; every toxic is removed after the test."""
    configuration = {
        "toxiproxy_port": sim.config.toxiproxy_port,
        "sim_state_dir": str(sim.config.state_dir),
    }
    yield configuration
    actions.reset_toxiproxy(configuration)


def chat_seconds(
    sim: ClusterInfo, within_s: float = 20.0, read_timeout_s: float = 10.0
) -> tuple[float, bool]:
    """Seconds a new chat takes to stream its whole reply, and whether it completed."""
    client = ChatClient(sim.url, USER, PASSWORD, timeout_s=read_timeout_s)
    started = time.monotonic()
    delivery = client.follow_to_end(client.start("how slow is it?"), within_s)
    return time.monotonic() - started, delivery.final


def test_replicas_dial_the_proxies_which_lead_to_the_upstreams(
    sim: ClusterInfo, conf: dict[str, Any], toxiproxy_server: Path
) -> None:
    version = subprocess.run(
        [toxiproxy_server, "-version"], capture_output=True, text=True, check=True
    )
    assert toxiproxy.VERSION.removeprefix("v") in version.stdout
    proxies = probes.list_proxies(conf)
    assert proxies[LLM_PROXY]["upstream"] == f"127.0.0.1:{sim.config.llm_port}"
    assert proxies[REDIS_PROXY]["upstream"] == f"127.0.0.1:{sim.config.redis_port}"
    replicas = json.loads((sim.config.state_dir / "sim" / "sim.json").read_text())
    assert proxies[LLM_PROXY]["listen"] == f"127.0.0.1:{replicas['llm_port']}"
    assert proxies[REDIS_PROXY]["listen"] == f"127.0.0.1:{replicas['redis_port']}"
    assert "toxiproxy" in [c.name for c in sim.children]
    assert probes.toxic_count(configuration=conf) == 0
    # Without toxiproxy_port, the port comes from the simulator's cluster.json.
    assert probes.list_proxies({"sim_state_dir": conf["sim_state_dir"]}) == proxies
    assert chat_seconds(sim)[1]


def test_llm_latency_delays_the_reply_and_the_rollback_removes_it(
    sim: ClusterInfo, conf: dict[str, Any]
) -> None:
    baseline, _ = chat_seconds(sim)
    toxic = actions.add_latency(LLM_PROXY, latency_ms=800, configuration=conf)
    assert toxic["name"] == "latency_downstream"
    assert toxic["attributes"] == {"latency": 800, "jitter": 0}
    assert probes.toxic_count(LLM_PROXY, conf) == 1
    slow, complete = chat_seconds(sim)
    assert complete
    assert slow >= baseline + 0.7, (baseline, slow)
    assert actions.remove_all_toxics(LLM_PROXY, conf)["removed"] == ["latency_downstream"]
    assert actions.remove_all_toxics(LLM_PROXY, conf)["removed"] == []  # idempotent rollback
    assert chat_seconds(sim)[0] < baseline + 0.7


def test_bandwidth_limit_slows_the_stream(sim: ClusterInfo, conf: dict[str, Any]) -> None:
    baseline, _ = chat_seconds(sim)
    actions.limit_bandwidth(LLM_PROXY, rate_kbps=1, configuration=conf)
    assert [t["type"] for t in probes.list_toxics(LLM_PROXY, conf)] == ["bandwidth"]
    slow, complete = chat_seconds(sim)
    assert complete
    assert slow > baseline + 0.5, (baseline, slow)


def test_redis_resets_fail_requests_until_removed(sim: ClusterInfo, conf: dict[str, Any]) -> None:
    login = {"email": USER, "password": PASSWORD}
    headers = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"}

    def login_status() -> int:
        return requests.post(
            f"{sim.url}/api/auth/login", json=login, headers=headers, timeout=10
        ).status_code

    assert login_status() == 200
    actions.reset_connections(REDIS_PROXY, stream="upstream", configuration=conf)
    assert login_status() != 200
    actions.remove_toxic(REDIS_PROXY, "reset_peer_upstream", conf)
    wait_until(lambda: login_status() == 200, 10, "logins to work again once Redis is reachable")


def test_disabled_llm_link_breaks_chats_and_enable_restores_it(
    sim: ClusterInfo, conf: dict[str, Any]
) -> None:
    actions.disable_proxy(LLM_PROXY, conf)
    assert probes.proxy_enabled(LLM_PROXY, conf) is False
    assert chat_seconds(sim, within_s=1, read_timeout_s=2)[1] is False
    actions.enable_proxy(LLM_PROXY, conf)
    assert probes.proxy_enabled(LLM_PROXY, conf) is True
    wait_until(lambda: chat_seconds(sim)[1], 15, "a chat to complete once the LLM link is back")
    assert actions.cut_connections(LLM_PROXY, conf)["enabled"] is True
    assert chat_seconds(sim)[1]


def test_user_mistakes_are_clear_errors(sim: ClusterInfo, conf: dict[str, Any]) -> None:
    with pytest.raises(TargetNotFoundError, match="no proxy 'lmm'") as missing:
        actions.add_latency("lmm", 100, configuration=conf)
    assert "llm" in missing.value.hint
    actions.add_latency(LLM_PROXY, 100, configuration=conf)
    with pytest.raises(ChaosError, match="already exists"):
        actions.add_latency(LLM_PROXY, 200, configuration=conf)
    with pytest.raises(TargetNotFoundError, match="no toxic 'nope'") as no_toxic:
        actions.remove_toxic(LLM_PROXY, "nope", conf)
    assert "latency_downstream" in no_toxic.value.hint
    with pytest.raises(ChaosError, match="not a Toxiproxy stream"):
        actions.stall_connections(LLM_PROXY, stream="sideways", configuration=conf)
    with pytest.raises(ChaosError, match="latency_ms is -1"):
        actions.add_latency(LLM_PROXY, -1, configuration=conf)
    with pytest.raises(ChaosError, match="invalid toxic type"):
        actions.add_toxic(LLM_PROXY, "gremlins", configuration=conf)
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    with pytest.raises(UnreachableError, match="does not answer") as down:
        probes.toxic_count(configuration={"toxiproxy_port": closed})
    assert "toxiproxy_port" in down.value.hint


def test_a_proxy_of_ones_own_is_created_and_deleted(sim: ClusterInfo, conf: dict[str, Any]) -> None:
    created = actions.create_proxy(
        "front", f"127.0.0.1:{sim.config.front_port}", configuration=conf
    )
    port = int(created["listen"].rsplit(":", 1)[1])
    assert requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
    assert probes.proxy_exists("front", conf)
    actions.delete_proxy("front", conf)
    assert not probes.proxy_exists("front", conf)


def test_chaos_discover_describes_every_activity() -> None:
    found = discover_actions("chaos.network.actions") + discover_probes("chaos.network.probes")
    assert {a["name"] for a in found} == set(actions.__all__) | set(probes.__all__)
    latency = next(a for a in found if a["name"] == "add_latency")
    assert latency["doc"]
    assert {"name": "latency_ms", "type": "integer"} in latency["arguments"]


def run_chaos(
    sim: ClusterInfo, tmp: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = os.environ | {
        "LIBRECHAT_OPS_STATE": str(sim.config.state_dir),
        "TOXIPROXY_PORT": str(sim.config.toxiproxy_port),
        **env,
    }
    return subprocess.run(
        [CHAOS, "--no-version-check", "--log-file", str(tmp / "chaos.log"), *args],
        cwd=tmp,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "env", "toxics"),
    [
        (
            "llm-latency",
            {"LLM_LATENCY_MS": "600", "LLM_LATENCY_FOR_S": "1"},
            {"chaos-llm-latency": "latency"},
        ),
        (
            "redis-network-degraded",
            {"REDIS_LATENCY_MS": "10"},
            {"chaos-redis-latency": "latency", "chaos-redis-resets": "reset_peer"},
        ),
    ],
)
def test_network_experiment_validates_and_holds(
    sim: ClusterInfo,
    conf: dict[str, Any],
    tmp_path: Path,
    name: str,
    env: dict[str, str],
    toxics: dict[str, str],
) -> None:
    experiment = EXPERIMENTS / f"{name}.json"
    validated = run_chaos(sim, tmp_path, "validate", str(experiment))
    assert validated.returncode == 0, validated.stdout + validated.stderr
    journal = tmp_path / "journal.json"
    ran = run_chaos(
        sim, tmp_path, "run", "--rollback-strategy=always", "--journal-path", str(journal),
        str(experiment), **env,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    result = json.loads(journal.read_text())
    assert (result["status"], result["deviated"]) == ("completed", False)
    in_place = next(r for r in result["run"] if r["activity"]["name"] == "toxics-in-place")
    assert {t["name"]: t["type"] for t in in_place["output"]} == toxics
    assert result["rollbacks"][0]["status"] == "succeeded"
    assert probes.toxic_count(configuration=conf) == 0


def test_llm_latency_experiment_deviates_when_the_llm_looks_dead(
    sim: ClusterInfo, conf: dict[str, Any], tmp_path: Path
) -> None:
    # A reply starting 11 s late outlasts the chat client's 10 s read timeout: none arrives in time.
    journal = tmp_path / "journal.json"
    ran = run_chaos(
        sim, tmp_path, "run", "--rollback-strategy=always", "--journal-path", str(journal),
        str(EXPERIMENTS / "llm-latency.json"),
        LLM_LATENCY_MS="11000", LLM_JITTER_MS="0", CHAT_WITHIN_S="1", LLM_LATENCY_FOR_S="1",
    )  # fmt: skip
    assert ran.returncode != 0
    result = json.loads(journal.read_text())
    assert result["deviated"] is True
    assert result["rollbacks"][0]["status"] == "succeeded"
    assert probes.toxic_count(configuration=conf) == 0


def test_a_missing_toxiproxy_or_go_is_a_clear_error(tmp_path: Path) -> None:
    config = SimConfig(
        state_dir=tmp_path, toxiproxy=str(tmp_path / "toxiproxy-server"), seed_users=1
    )
    with pytest.raises(ProgramMissingError, match="toxiproxy-server is not at") as missing:
        Cluster(
            config.with_overrides(front_port=0, replica_base_port=0, redis_port=0, llm_port=0)
        ).up()
    assert "localplatform.toxiproxy.ensure" in (missing.value.hint or "")
    assert not (tmp_path / "sim" / "cluster.json").exists()
    with pytest.raises(BuildError, match="`go`") as no_go:
        toxiproxy.ensure(tmp_path / "cache", go=str(tmp_path / "no-go"))
    assert "install Go" in (no_go.value.hint or "")


def test_a_taken_toxiproxy_port_is_a_port_conflict(toxiproxy_server: Path, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        config = SimConfig(
            state_dir=tmp_path, toxiproxy=str(toxiproxy_server), toxiproxy_port=taken
        )
        with pytest.raises(PortConflictError, match=f"127.0.0.1:{taken}"):
            faultproxy.prepare(config)


def test_a_restarted_toxiproxy_opens_the_same_proxies(
    sim: ClusterInfo, conf: dict[str, Any]
) -> None:
    from chaos.simulator import actions as process_actions  # noqa: PLC0415
    from chaos.simulator.state import Simulator, running, send, wait_gone  # noqa: PLC0415

    before = probes.list_proxies(conf)
    server = Simulator(sim.config.state_dir).find("toxiproxy")
    assert send(server, signal.SIGKILL)
    assert wait_gone(server, 5)
    with pytest.raises(UnreachableError):  # the links are gone: no login without Redis
        chat_seconds(sim, within_s=3, read_timeout_s=2)
    # The rollback starts it again with its recorded command, which names the proxies' file.
    assert process_actions.restore_all(conf) == ["toxiproxy"]
    assert running(Simulator(sim.config.state_dir).find("toxiproxy"))
    assert probes.list_proxies(conf) == before
    assert chat_seconds(sim)[1] is True

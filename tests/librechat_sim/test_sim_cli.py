"""``librechat-ops sim up|status|down``: loopback only, clear port conflicts, no orphans."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path

import pytest

from librechat_sim.description import load
from librechat_sim.processes import alive, free_port
from tests.commands import run_cli

pytestmark = pytest.mark.e2e


def _listening_addresses(ports: set[int]) -> set[str]:
    """The local addresses of the TCP listeners on ``ports`` (from /proc/net/tcp{,6})."""
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port = local.rsplit(":", 1)
            if state == "0A" and int(port, 16) in ports:
                raw = bytes.fromhex(address)
                found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]) if len(raw) == 4 else "v6")
    return found


def _ports() -> list[str]:
    return [
        "--port", str(free_port()), "--base-port", str(free_port()),
        "--redis-port", str(free_port()), "--llm-port", str(free_port()),
        "--gateway-port", str(free_port()), "--fallback-llm-port", str(free_port()),
        "--replicas", "1", "--seed-users", "2",
    ]  # fmt: skip


def test_up_status_down_leaves_nothing_running(tmp_path: Path) -> None:
    state = tmp_path / "state"
    up = run_cli("sim", "up", *_ports(), state=state)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        info = load(state)
        assert info.url in up.stdout
        with urllib.request.urlopen(info.url + "/health", timeout=5) as response:
            assert response.read() == b"OK"
        names = {"redis", "llm", "llm-fallback", "gateway", "r1", "haproxy"}
        assert {c.name for c in info.children} == names
        assert all(alive(c) for c in info.children)
        listening = _listening_addresses({info.config.front_port, *info.replica_ports})
        assert listening == {"127.0.0.1"}
        status = run_cli("sim", "status", state=state)
        assert status.returncode == 0
        assert status.stdout.count("running") == len(names)
        assert f"gateway      pid {info.child('gateway').pid}" in status.stdout
        again = run_cli("sim", "up", *_ports(), state=state)
        assert again.returncode == 2
        assert "already running" in again.stderr
        config = json.loads((state / "sim" / "sim.json").read_text())
        assert config["replicas"] == 1
    finally:
        down = run_cli("sim", "down", state=state)
    assert down.returncode == 0, down.stderr
    assert not any(alive(c) for c in info.children)
    gone = run_cli("sim", "down", state=state)
    assert gone.returncode == 2
    assert "no simulator is running" in gone.stderr


def test_a_taken_port_is_one_clear_error_and_starts_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        ports = _ports()
        ports[1] = str(taken)
        result = run_cli("sim", "up", *ports, state=state)
    assert result.returncode == 2
    assert f"127.0.0.1:{taken} (for haproxy (front))" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (state / "sim" / "cluster.json").exists()

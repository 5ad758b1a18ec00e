"""``librechat-ops doctor``: every gap is reported with its fix, never with a traceback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from librechat_ops.doctor import (
    DebianProgram,
    Status,
    check_go,
    check_ports,
    check_programs,
    check_python,
    check_writable,
)
from localplatform.ports import PortUse


def _run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "librechat_ops", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _fake_go(tmp_path: Path, version_line: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    go = bin_dir / "go"
    go.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    go.chmod(0o755)
    return go


def test_doctor_reports_missing_tools_with_fixes_and_exit_1(tmp_path: Path) -> None:
    # A PATH with only a shell: no go, no Debian programs.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sh").symlink_to("/bin/sh")
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "COLUMNS": "200"}
    result = _run_cli("doctor", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "`go` is not on PATH" in result.stdout
    packages = "haproxy prometheus prometheus-alertmanager redis-server wrk"
    assert f"apt-get install -y {packages}" in result.stdout
    assert "install Go 1.26 or newer" in result.stdout


def test_doctor_json_lists_every_check(tmp_path: Path) -> None:
    env = dict(os.environ, LIBRECHAT_OPS_CACHE=str(tmp_path / "cache"))
    result = _run_cli("doctor", "--json", env=env)
    rows = json.loads(result.stdout)
    checks = {row["check"] for row in rows}
    assert {"python", "go toolchain", "loopback ports", "cache directory", "prometheus"} <= checks
    assert all(row["status"] in {"ok", "warn", "fail"} for row in rows)
    assert result.returncode == (1 if any(r["status"] == "fail" for r in rows) else 0)


def test_help_explains_each_command() -> None:
    result = _run_cli("--help", env=dict(os.environ, COLUMNS="200"))
    assert result.returncode == 0
    assert "doctor" in result.stdout
    assert "Check this machine" in result.stdout


def test_old_python_fails_with_fix() -> None:
    finding = check_python((3, 11), (3, 10, 4))
    assert finding.status is Status.FAIL
    assert "3.10.4 is older than 3.11" in finding.detail
    assert finding.fix is not None
    assert check_python((3, 11), (3, 12, 0)).status is Status.OK


def test_old_go_fails_and_current_go_passes(tmp_path: Path) -> None:
    old = _fake_go(tmp_path, "go version go1.19.8 linux/amd64")
    finding = check_go((1, 26), lambda _name: str(old))
    assert finding.status is Status.FAIL
    assert "go1.19.8" in finding.detail
    new = _fake_go(tmp_path, "go version go1.26.8 linux/amd64")
    assert check_go((1, 26), lambda _name: str(new)).status is Status.OK


def test_unreadable_go_version_fails(tmp_path: Path) -> None:
    go = _fake_go(tmp_path, "something else entirely")
    finding = check_go((1, 26), lambda _name: str(go))
    assert finding.status is Status.FAIL
    assert "cannot read a version" in finding.detail


def test_optional_program_missing_is_only_a_warning() -> None:
    programs = (
        DebianProgram("needed-tool", "needed-pkg", "x"),
        DebianProgram("bench-tool", "bench-pkg", "y", required=False),
    )
    findings = check_programs(programs, lambda _name: None)
    assert [f.status for f in findings] == [Status.FAIL, Status.WARN]
    assert findings[0].fix is not None
    assert "apt-get install -y bench-pkg needed-pkg" in findings[0].fix


def test_taken_port_names_the_process_holding_it() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        finding = check_ports((PortUse(port, "kube-apiserver"),), lambda _use: False)
        assert finding.status is Status.FAIL
        assert f"127.0.0.1:{port} (for kube-apiserver) is taken by pid {os.getpid()}" in (
            finding.detail
        )
        # A port the platform itself holds is not a conflict.
        assert check_ports((PortUse(port, "x"),), lambda _use: True).status is Status.OK
    assert check_ports((PortUse(port, "x"),), lambda _use: False).status is Status.OK


def test_unwritable_cache_directory_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    finding = check_writable(blocker / "cache", 0.0)
    assert finding.status is Status.FAIL
    assert "LIBRECHAT_OPS_CACHE" in (finding.fix or "")


@pytest.mark.parametrize("free_needed", [10.0**9])
def test_cache_without_room_warns(tmp_path: Path, free_needed: float) -> None:
    finding = check_writable(tmp_path, free_needed)
    assert finding.status is Status.WARN
    assert "GiB free" in finding.detail

"""Faults at start-up: each gives one clear message with its cause and fix, and leaves no orphan."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from localplatform import ports, process
from localplatform.build import Builder
from localplatform.cluster import COMPONENTS, LocalPlatform
from localplatform.errors import BuildError, PortConflictError, StartError
from localplatform.versions import Versions

pytestmark = pytest.mark.e2e


def _cache_with(platform: LocalPlatform, tmp: Path, *, replace: str | None = None) -> Path:
    """A cache whose component dirs link to the real builds, except ``replace`` (left out)."""
    real = platform.builder
    cache = tmp / "cache"
    (cache / "bin").mkdir(parents=True)
    v = real.versions
    for name, version in (("kubernetes", v.kubernetes), ("etcd", v.etcd), ("kwok", v.kwok)):
        if name != replace:
            (cache / "bin" / real.key(name, version)).symlink_to(real.bin_dir(name, version))
    return cache


def test_taken_port_names_the_holder_and_stops_what_it_started(
    local_platform: LocalPlatform,
) -> None:
    local_platform.down(keep_data=True)
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind((ports.LOOPBACK, ports.KWOK))
        blocker.listen()
        with pytest.raises(PortConflictError) as caught:
            local_platform.up(3)
        message = caught.value.message
        assert f"127.0.0.1:{ports.KWOK}, which kwok needs" in message
        assert f"pid {os.getpid()}" in message
        assert caught.value.hint
        assert f"kill {os.getpid()}" in caught.value.hint
        # etcd .. kube-scheduler were started before the conflict: all stopped again.
        assert all(row.state == "stopped" for row in local_platform.status())
        for port in (ports.ETCD_CLIENT, ports.KUBE_APISERVER, ports.KUBE_SCHEDULER):
            assert ports.is_free(port), f"port {port} still held: orphan process"
    local_platform.up(3)
    assert all(row.state == "running" for row in local_platform.status())


def test_component_exiting_at_start_is_named_with_its_log(
    local_platform: LocalPlatform, tmp_path: Path
) -> None:
    cache = _cache_with(local_platform, tmp_path, replace="kwok")
    real_kwok = local_platform.builder.bin_dir("kwok", local_platform.versions.kwok)
    broken = cache / "bin" / real_kwok.name
    broken.mkdir()
    shutil.copy(real_kwok / "BUILD-INFO.json", broken)
    shutil.copy(real_kwok / "stages.yaml", broken)
    (broken / "kwok").write_text(
        "#!/bin/sh\necho 'kwok: unknown flag --simulated-failure' >&2\nexit 3\n"
    )
    (broken / "kwok").chmod(0o755)
    kwok = local_platform.status()[[c.name for c in COMPONENTS].index("kwok")]
    assert kwok.pid is not None
    handle = process.handle_of(kwok.pid)
    assert handle is not None
    process.stop(handle, pid_file=local_platform.layout.pid_file("kwok"))

    state_dir = local_platform.layout.root.parent
    broken_platform = LocalPlatform(state_dir, cache)
    with pytest.raises(StartError) as caught:
        broken_platform.up(3)

    assert caught.value.message == "kwok exited right after starting"
    assert caught.value.log_tail
    assert "unknown flag --simulated-failure" in caught.value.log_tail
    assert ports.is_free(ports.KWOK)
    local_platform.up(3)


def test_missing_go_toolchain_says_how_to_fix_it(tmp_path: Path) -> None:
    builder = Builder(tmp_path / "cache", go="no-such-go-toolchain")
    with pytest.raises(BuildError) as caught:
        builder.ensure()
    assert "`go`" in caught.value.message
    assert caught.value.hint
    assert "install Go 1.26" in caught.value.hint

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "LIBRECHAT_OPS_CACHE": str(tmp_path / "cache"),
        "LIBRECHAT_OPS_STATE": str(tmp_path / "state"),
    }
    cli = subprocess.run(
        [sys.executable, "-m", "librechat_ops", "cluster", "build"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert cli.returncode == 2
    assert "error:" in cli.stderr
    assert "fix:" in cli.stderr
    assert "Traceback" not in cli.stderr


def test_module_the_proxy_refuses_is_a_clear_build_error(
    local_platform: LocalPlatform, tmp_path: Path
) -> None:
    cache = _cache_with(local_platform, tmp_path, replace="kwok")
    versions = Versions(kwok="v0.0.999")
    builder = Builder(cache, versions)
    assert builder.missing() == ["kwok"]
    with pytest.raises(BuildError) as caught:
        builder.ensure()
    assert "failed" in caught.value.message
    assert caught.value.hint
    assert "refused a module" in caught.value.hint
    assert caught.value.log_tail
    assert "v0.0.999" in caught.value.log_tail

"""Start, watch and stop the simulator's child processes; loopback ports they listen on.

Each child runs in its own session (``sim up`` returns while they keep running) with its output
in a log file. A pid is only signalled while ``/proc/<pid>/stat`` shows the start time recorded when
it was spawned, so a recycled pid is never killed. :func:`restart` starts a process again detached
from the caller (a chaos rollback's process ends before the simulator does).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import SimError

LOOPBACK = "127.0.0.1"

_popens: dict[int, subprocess.Popen[bytes]] = {}
"""Children started by this process, kept so they are reaped (waited for) when stopped."""


@dataclass(frozen=True)
class Child:
    """A process the simulator started."""

    name: str
    """Role: ``redis``, ``llm``, ``r1``.., ``haproxy``."""

    pid: int
    """Process id."""

    started: int
    """Its start time in clock ticks after boot (``/proc/<pid>/stat`` field 22)."""

    log: Path
    """Its standard output and error."""

    argv: tuple[str, ...] = ()
    """The command that started it (to start it again after a fault)."""

    region: str = ""
    """The region of a replica (``a``/``b``); empty for shared processes."""

    @property
    def port(self) -> int | None:
        """The ``--port`` (Toxiproxy: ``-port``) it listens on, when its command says."""
        args = list(self.argv)
        for flag in ("--port", "-port"):
            if flag in args and args.index(flag) + 1 < len(args):
                return int(args[args.index(flag) + 1])
        return None

    @property
    def replica(self) -> bool:
        """True for an API replica (``r1``, ``r2``, ...)."""
        return self.name.startswith("r") and self.name[1:].isdigit()


def is_free(port: int) -> bool:
    """True when a listener could bind ``127.0.0.1:port`` now."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[-1].split()


def _start_ticks(pid: int) -> int | None:
    fields = _stat(pid)
    return None if fields is None or fields[0] == "Z" else int(fields[19])


def spawn(name: str, argv: Sequence[str], log: Path, region: str = "") -> Child:
    """Start ``argv`` in a new session with output to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _popens[proc.pid] = proc
    return Child(name, proc.pid, _start_ticks(proc.pid) or 0, log, tuple(argv), region)


def alive(child: Child) -> bool:
    """True while ``child`` runs (and its pid was not recycled)."""
    _reap(child.pid)
    return _start_ticks(child.pid) == child.started


def _reap(pid: int) -> None:
    proc = _popens.get(pid)
    if proc is not None:
        if proc.poll() is not None:
            del _popens[pid]
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def paused(child: Child) -> bool:
    """True while ``child`` is stopped by SIGSTOP."""
    fields = _stat(child.pid)
    return alive(child) and fields is not None and fields[0] == "T"


def send(child: Child, sig: signal.Signals) -> bool:
    """Send ``sig`` to ``child`` if it runs; True when sent."""
    if not alive(child):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(child.pid, sig)
        return True
    return False


def wait_gone(child: Child, timeout_s: float) -> bool:
    """Wait until ``child`` has exited; True when it has."""
    deadline = time.monotonic() + timeout_s
    while alive(child):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def stop(child: Child, grace_s: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after ``grace_s``; returns when the process is gone."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        if not alive(child):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, sig)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            _reap(child.pid)
            if not alive(child):
                return
            time.sleep(0.05)


def kill(child: Child) -> None:
    """SIGKILL at once (the tests' way of losing a replica mid-stream)."""
    if alive(child):
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while alive(child) and time.monotonic() < deadline:
        _reap(child.pid)
        time.sleep(0.02)


def tail(log: Path, lines: int = 15) -> str:
    """The last lines of a log file."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_ready(child: Child, port: int, path: str | None, timeout_s: float = 20.0) -> None:
    """Wait until ``child`` accepts TCP on ``port`` (and answers 200 on ``path``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive(child):
            raise SimError(
                f"{child.name} exited during start-up (log {child.log}):\n{tail(child.log)}",
                hint=f"read {child.log}",
            )
        if _answers(port, path):
            return
        time.sleep(0.05)
    raise SimError(
        f"{child.name} did not become ready on 127.0.0.1:{port} within {timeout_s:g}s",
        hint=f"read {child.log}",
    )


def _answers(port: int, path: str | None) -> bool:
    if path is None:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return True
        except OSError:
            return False
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}{path}", timeout=1) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def restart(child: Child, timeout_s: float = 20.0) -> Child:
    """Start ``child``'s command again, detached (its own session, output appended to the same
    log, not a child of this process), and wait until its port accepts connections."""
    if not child.argv:
        raise SimError(
            f"the simulator recorded no command for {child.name}",
            hint="restart the simulator with this version of librechat-ops",
        )
    pid = _daemon(child.argv, child.log)
    new = Child(child.name, pid, _start_ticks(pid) or 0, child.log, child.argv, child.region)
    port = child.port
    deadline = time.monotonic() + timeout_s
    while port is not None and not _answers(port, None):
        if not alive(new) or time.monotonic() > deadline:
            raise SimError(
                f"{child.name} did not start again on 127.0.0.1:{port}", hint=f"read {child.log}"
            )
        time.sleep(0.05)
    return new


def _daemon(argv: tuple[str, ...], log: Path) -> int:
    """Start ``argv`` detached (double fork, own session, output appended to ``log``) and return
    its pid: the new process is not this one's child, so it outlives the caller."""
    read_end, write_end = os.pipe()
    first = os.fork()
    if first == 0:  # pragma: no cover - runs in the forked child
        try:
            os.setsid()
            second = os.fork()
            if second == 0:
                out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(out, 1)
                os.dup2(out, 2)
                os.closerange(3, 65536)
                os.execvp(argv[0], list(argv))
            os.write(write_end, str(second).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    os.waitpid(first, 0)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    if not text:
        raise SimError(f"could not start {argv[0]}")
    return int(text)

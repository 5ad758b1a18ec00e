"""Start, find and stop the platform's background processes.

A started process runs in its own session (so it outlives the command that started it), writes to
its own log file, and is recorded in a pid file with its start time, so a recycled pid is never
mistaken for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import StartError


@dataclass(frozen=True)
class Handle:
    """A process the platform started."""

    pid: int
    start_ticks: int
    """The process start time from ``/proc/<pid>/stat``, in clock ticks since boot."""

    def alive(self) -> bool:
        """True while this very process runs (not a zombie, not a recycled pid)."""
        stat = _stat(self.pid)
        return stat is not None and stat[1] == self.start_ticks and stat[0] != "Z"


def start(
    argv: Sequence[str], *, log: Path, pid_file: Path, env: Mapping[str, str] | None = None
) -> Handle:
    """Start ``argv`` detached, appending its output to ``log``, and record it in ``pid_file``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n--- {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(argv)}\n".encode())
        out.flush()
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=dict(env) if env is not None else None,
            )
        except OSError as exc:
            raise StartError(
                f"cannot run {argv[0]}: {exc.strerror}",
                hint="run `librechat-ops cluster build` to rebuild the cached binaries",
            ) from exc
    stat = _stat(proc.pid)
    handle = Handle(proc.pid, stat[1] if stat else 0)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(json.dumps({"pid": handle.pid, "start_ticks": handle.start_ticks}))
    # The child is reaped by whoever stops it (or by init once this command exits); forget it here
    # so Python does not warn about a still-running child.
    proc.returncode = 0
    return handle


def handle_of(pid: int) -> Handle | None:
    """A handle on the running process ``pid``, or None when there is none."""
    stat = _stat(pid)
    return Handle(pid, stat[1]) if stat is not None and stat[0] != "Z" else None


def find(pid_file: Path) -> Handle | None:
    """The process recorded in ``pid_file`` if it still runs; a stale file is removed."""
    try:
        data = json.loads(pid_file.read_text())
        handle = Handle(int(data["pid"]), int(data["start_ticks"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if handle.alive():
        return handle
    pid_file.unlink(missing_ok=True)
    return None


def stop(handle: Handle, *, pid_file: Path | None = None, grace: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL after ``grace`` seconds; wait until it is gone."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if not handle.alive():
            break
        try:
            os.killpg(handle.pid, sig)
        except ProcessLookupError:
            break
        except PermissionError:
            try:
                os.kill(handle.pid, sig)
            except (PermissionError, ProcessLookupError):
                break  # not ours to stop (another user's): leave it
        deadline = time.monotonic() + wait
        while handle.alive() and time.monotonic() < deadline:
            _reap(handle.pid)
            time.sleep(0.05)
    _reap(handle.pid)
    if pid_file is not None:
        pid_file.unlink(missing_ok=True)


def tail(log: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file ('' when there is none)."""
    try:
        with log.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _reap(pid: int) -> None:
    """Collect the exit status if ``pid`` is our own child (started in this process)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in ticks) of a pid, or None when it does not exist."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after its last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])

"""The simulator's processes as ``<state>/sim/cluster.json`` records them, and signalling them.

A pid is only signalled while ``/proc/<pid>/stat`` shows the start time recorded with it, so a
recycled pid is never touched. A process started again here is written back to ``cluster.json``
with its new pid, so ``librechat-ops sim down`` stops it like the others.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import TargetNotFoundError, UnreachableError

STATE_ENV = "LIBRECHAT_OPS_STATE"
"""The toolkit's state directory (the same variable ``librechat-ops`` reads)."""


def state_dir(configured: str | None = None) -> Path:
    """The state directory: ``configured``, else ``$LIBRECHAT_OPS_STATE``, else the default."""
    raw = configured or os.environ.get(STATE_ENV)
    return Path(raw).expanduser() if raw else Path.home() / ".local" / "state" / "librechat-ops"


@dataclass(frozen=True)
class SimProcess:
    """One process of the simulator."""

    name: str
    """``redis``, ``llm``, ``r1``.., ``haproxy`` (and ``toxiproxy`` when present)."""
    pid: int
    """Its pid."""
    started: int
    """Its start time in clock ticks after boot (``/proc/<pid>/stat`` field 22)."""
    log: Path
    """Its output."""
    argv: tuple[str, ...]
    """The command that started it."""
    region: str
    """A replica's region (``a``/``b``), empty for shared processes."""

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
        """True for an API replica."""
        return self.name.startswith("r") and self.name[1:].isdigit()


class Simulator:
    """The simulator recorded under a state directory."""

    def __init__(self, state: Path) -> None:
        self.file = state / "sim" / "cluster.json"

    def _read(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.file.read_text())
        except FileNotFoundError:
            raise UnreachableError(
                f"no simulator is running (nothing recorded in {self.file})",
                hint="start one with `librechat-ops sim up`, or set LIBRECHAT_OPS_STATE",
            ) from None
        except ValueError as exc:
            raise UnreachableError(f"{self.file} is damaged: {exc}") from None
        return data

    @property
    def url(self) -> str:
        """The front URL (haproxy)."""
        return str(self._read()["url"])

    def processes(self) -> list[SimProcess]:
        """Every recorded process, in start order."""
        return [_process(c) for c in self._read()["children"]]

    def find(self, name: str) -> SimProcess:
        """The process called ``name``."""
        processes = self.processes()
        for process in processes:
            if process.name == name:
                return process
        known = ", ".join(p.name for p in processes)
        raise TargetNotFoundError(f"the simulator has no process {name!r}", hint=f"one of {known}")

    def replicas(self, region: str | None = None) -> list[SimProcess]:
        """The API replicas (of ``region`` only, when given)."""
        found = [p for p in self.processes() if p.replica and region in (None, p.region)]
        if region is not None and not found:
            raise TargetNotFoundError(
                f"the simulator has no replica in region {region!r}",
                hint="start it with two regions: `librechat-ops sim up --regions 2`",
            )
        return found

    def replace(self, old: SimProcess, new: SimProcess) -> None:
        """Record ``new`` in place of ``old``."""
        data = self._read()
        for entry in data["children"]:
            if entry["name"] == old.name:
                entry.update(pid=new.pid, started=new.started)
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.file)


def _process(entry: dict[str, Any]) -> SimProcess:
    return SimProcess(
        name=entry["name"],
        pid=int(entry["pid"]),
        started=int(entry["started"]),
        log=Path(entry["log"]),
        argv=tuple(entry.get("argv", ())),
        region=entry.get("region", ""),
    )


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[-1].split()


def running(process: SimProcess) -> bool:
    """True while ``process`` runs (a zombie or a recycled pid is not it)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(process.pid, os.WNOHANG)  # reap it when this process started it
    fields = _stat(process.pid)
    return fields is not None and fields[0] != "Z" and int(fields[19]) == process.started


def paused(process: SimProcess) -> bool:
    """True while ``process`` is stopped by SIGSTOP."""
    fields = _stat(process.pid)
    return running(process) and fields is not None and fields[0] == "T"


def send(process: SimProcess, sig: signal.Signals) -> bool:
    """Send ``sig`` to ``process`` if it runs; True when sent."""
    if not running(process):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, sig)
        return True
    return False


def wait_gone(process: SimProcess, timeout_s: float) -> bool:
    """Wait until ``process`` has exited; True when it has."""
    deadline = time.monotonic() + timeout_s
    while running(process):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def start(process: SimProcess, timeout_s: float = 20.0) -> SimProcess:
    """Start ``process``'s command again (new session, same log) and wait for its port."""
    if not process.argv:
        raise TargetNotFoundError(
            f"cluster.json records no command for {process.name}",
            hint="restart the simulator with this version of librechat-ops",
        )
    pid = _daemon(process.argv, process.log)
    fields = _stat(pid)
    new = SimProcess(
        process.name, pid, int(fields[19]) if fields else 0, process.log, process.argv,
        process.region,
    )  # fmt: skip
    port = process.port
    deadline = time.monotonic() + timeout_s
    while port is not None and not _accepts(port):
        if not running(new) or time.monotonic() > deadline:
            raise UnreachableError(
                f"{process.name} did not start again on 127.0.0.1:{port}",
                hint=f"read {process.log}",
            )
        time.sleep(0.05)
    return new


def _daemon(argv: tuple[str, ...], log: Path) -> int:
    """Start ``argv`` detached (double fork, own session, output appended to ``log``) and return
    its pid: the new process is not this one's child, so it outlives ``chaos run``."""
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
        raise UnreachableError(f"could not start {argv[0]}")
    return int(text)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False

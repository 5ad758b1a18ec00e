"""Loopback ports: which the local platform listens on, and who holds a port that is taken."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class PortUse:
    """One loopback port that a component of the local platform listens on."""

    port: int
    component: str


ETCD_CLIENT = 2379
ETCD_PEER = 2380
KUBE_APISERVER = 6443
KUBE_CONTROLLER_MANAGER = 10257
KUBE_SCHEDULER = 10259
KWOK = 10247
PROMETHEUS = 9090
ALERTMANAGER = 9093
"""Alertmanager's usual port; its gossip port (9094) stays closed: one instance, no HA cluster."""

PLATFORM_PORTS: tuple[PortUse, ...] = (
    PortUse(ETCD_CLIENT, "etcd"),
    PortUse(ETCD_PEER, "etcd"),
    PortUse(KUBE_APISERVER, "kube-apiserver"),
    PortUse(KUBE_CONTROLLER_MANAGER, "kube-controller-manager"),
    PortUse(KUBE_SCHEDULER, "kube-scheduler"),
    PortUse(KWOK, "kwok"),
    PortUse(PROMETHEUS, "prometheus"),
    PortUse(ALERTMANAGER, "alertmanager"),
)


def is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when a TCP listener could bind ``host:port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def owner_of(port: int, proc: Path = Path("/proc")) -> str | None:
    """Describe the process listening on ``port`` (``"pid 42 (redis-server)"``), if it can be seen.

    Reads ``/proc/net/tcp{,6}`` for the listening socket's inode, then the open file descriptors of
    each process. Returns ``None`` when the owner is not visible (another user, no /proc).
    """
    inodes = _listening_inodes(port, proc)
    if not inodes:
        return None
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        if any(_fd_target(fd) in inodes for fd in _fds(pid_dir)):
            try:
                name = (pid_dir / "comm").read_text().strip()
            except OSError:
                name = "?"
            return f"pid {pid_dir.name} ({name})"
    return None


def _fds(pid_dir: Path) -> list[Path]:
    try:
        return list((pid_dir / "fd").iterdir())
    except OSError:
        return []


def _fd_target(fd: Path) -> str | None:
    try:
        return os.readlink(fd)
    except OSError:  # closed meanwhile, or not ours to read
        return None


def _listening_inodes(port: int, proc: Path) -> set[str]:
    listen_state = "0A"
    found: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == listen_state and int(local.rsplit(":", 1)[1], 16) == port:
                found.add(f"socket:[{inode}]")
    return found

"""A real PostgreSQL 16 with pgvector for tests, on loopback: the binaries of the PyPI package
``pgserver`` (PostgreSQL and pgvector built for manylinux), run in a temporary folder.

PostgreSQL refuses to run as root, so when the tests do, the server (and every client command
given to :meth:`Postgres.run`) runs as ``nobody`` through ``setpriv``; its folder is made under
``/tmp``, owned by ``nobody``. Host connections need a password (SCRAM), so a wrong one fails as
it would on Aurora.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def _bin_dir() -> Path:
    """pgserver's ``pginstall/bin``, found without importing it (its import sets up run-time
    folders and warns)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pgserver is not installed: pip install -e '.[dev]'")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


POSTGRES_BIN_PATH = _bin_dir()

NOBODY = 65534
SUPERUSER = "postgres"


@dataclass(frozen=True)
class Postgres:
    """A running server."""

    port: int
    password: str
    """The superuser's password."""
    folder: Path

    def env(self, **extra: str) -> dict[str, str]:
        """libpq's variables for the superuser over TCP, plus ``extra``."""
        return {
            "PATH": f"{POSTGRES_BIN_PATH}:{os.environ.get('PATH', '')}",
            "HOME": str(self.folder),
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": SUPERUSER,
            "PGPASSWORD": self.password,
            "PGDATABASE": "postgres",
            "PGSSLMODE": "disable",
            **extra,
        }

    def run(
        self, command: list[str], env: Mapping[str, str], stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a client command (not checked: look at the result)."""
        return subprocess.run(
            [*_as_owner(), *command],
            env=dict(env),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def sql(self, query: str, **env: str) -> str:
        """One query's rows, unaligned (``psql -At``), as the superuser unless ``env`` says
        otherwise; raises on an error."""
        done = self.run(["psql", "-v", "ON_ERROR_STOP=1", "-At", "-c", query], self.env(**env))
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout.strip()


def _as_owner() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _chown(path: Path) -> None:
    if os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY)


@contextmanager
def postgres(password: str = "superuser-secret") -> Iterator[Postgres]:
    """A fresh server for the ``with`` block; stopped and removed after it."""
    folder = Path(tempfile.mkdtemp(prefix="librechat-ops-pg-", dir="/tmp"))
    _chown(folder)
    data = folder / "data"
    pwfile = folder / "pw"
    pwfile.write_text(password + "\n")
    _chown(pwfile)
    server = Postgres(port=_free_port(), password=password, folder=folder)
    bin_dir = POSTGRES_BIN_PATH
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(folder), "LC_ALL": "C"}

    def owner(*command: str) -> None:
        done = subprocess.run(
            [*_as_owner(), *command],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {(done.stderr or done.stdout).strip()}")

    try:
        owner(
            str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, f"--pwfile={pwfile}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8",
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {folder}"
        owner(
            str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip
        try:
            yield server
        finally:
            owner(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)

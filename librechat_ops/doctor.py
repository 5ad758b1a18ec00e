"""``librechat-ops doctor``: check the machine for what the toolkit needs, and say how to fix gaps.

Each check returns a :class:`Finding`; none raises for a missing dependency. The command line
renders the findings and exits non-zero when a required one failed.
"""

from __future__ import annotations

import enum
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from k8s_operator.settings import LIVENESS_PORT, METRICS_PORT
from localplatform.ports import PLATFORM_PORTS, PortUse, is_free, owner_of

from .settings import Settings


class Status(enum.Enum):
    """How a check came out."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    """The result of one check."""

    check: str
    """What was checked, e.g. ``"go toolchain"``."""
    status: Status
    detail: str
    """What was found."""
    fix: str | None = None
    """The exact step that closes the gap (``None`` when nothing is to be done)."""


@dataclass(frozen=True)
class DebianProgram:
    """A program the toolkit runs, from a Debian package."""

    program: str
    package: str
    needed_for: str
    required: bool = True
    """False for programs only the benchmarks use: their absence is a warning."""


DEBIAN_PROGRAMS: tuple[DebianProgram, ...] = (
    DebianProgram("prometheus", "prometheus", "the local platform's metrics"),
    DebianProgram("promtool", "prometheus", "loading traces, checking and testing the SLO rules"),
    DebianProgram(
        "prometheus-alertmanager",
        "prometheus-alertmanager",
        "the alerts of the local platform and of verify",
    ),
    DebianProgram("redis-server", "redis-server", "the LibreChat API simulator's shared state"),
    DebianProgram("haproxy", "haproxy", "the proxy in front of the simulator's replicas"),
    DebianProgram("wrk", "wrk", "the load generator baseline in benchmarks", required=False),
)


@dataclass(frozen=True)
class Requirements:
    """What ``doctor`` checks for; tests narrow it."""

    min_python: tuple[int, int] = (3, 11)
    min_go: tuple[int, int] = (1, 26)
    programs: tuple[DebianProgram, ...] = DEBIAN_PROGRAMS
    ports: tuple[PortUse, ...] = (
        *PLATFORM_PORTS,
        PortUse(LIVENESS_PORT, "the operator (liveness)"),
        PortUse(METRICS_PORT, "the operator (metrics)"),
    )
    min_free_gib: float = 6.0
    """The Go builds (module cache, build cache, binaries) need about this much in the cache."""


Which = Callable[[str], str | None]


def run_checks(
    settings: Settings,
    requirements: Requirements | None = None,
    *,
    which: Which = shutil.which,
    listening_ok: Callable[[PortUse], bool] | None = None,
) -> list[Finding]:
    """Run every check and return their findings in display order.

    ``listening_ok`` says whether a taken port belongs to the toolkit's own running platform
    (then it is not a conflict); by default no taken port is.
    """
    req = requirements or Requirements()
    findings = [check_python(req.min_python, sys.version_info[:3])]
    findings.append(check_go(req.min_go, which))
    findings.extend(check_programs(req.programs, which))
    findings.append(check_ports(req.ports, listening_ok or (lambda _use: False)))
    findings.append(check_writable(settings.cache_dir, req.min_free_gib))
    return findings


def check_python(minimum: tuple[int, int], actual: Sequence[int]) -> Finding:
    """Python at least ``minimum``."""
    shown = ".".join(map(str, actual))
    if tuple(actual[:2]) >= minimum:
        return Finding("python", Status.OK, f"Python {shown}")
    want = ".".join(map(str, minimum))
    return Finding(
        "python",
        Status.FAIL,
        f"Python {shown} is older than {want}",
        f"install Python {want} or newer and recreate the virtual environment (make clean-venv)",
    )


_GO_VERSION = re.compile(r"\bgo(\d+)\.(\d+)(?:\.(\d+))?\b")


def check_go(minimum: tuple[int, int], which: Which) -> Finding:
    """A Go toolchain of at least ``minimum`` on PATH: the local platform is built with it."""
    want = ".".join(map(str, minimum))
    fix = (
        f"install Go {want} or newer and put its bin directory on PATH "
        "(Debian's golang-go is too old); the local platform's components are built with it"
    )
    go = which("go")
    if go is None:
        return Finding("go toolchain", Status.FAIL, "`go` is not on PATH", fix)
    try:
        out = subprocess.run(
            [go, "version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return Finding("go toolchain", Status.FAIL, f"`{go} version` failed: {exc}", fix)
    match = _GO_VERSION.search(out)
    if match is None:
        return Finding("go toolchain", Status.FAIL, f"cannot read a version from {out!r}", fix)
    version = (int(match[1]), int(match[2]))
    if version < minimum:
        return Finding("go toolchain", Status.FAIL, f"{match[0]} at {go} is older than {want}", fix)
    return Finding("go toolchain", Status.OK, f"{match[0]} at {go}")


def check_programs(programs: Sequence[DebianProgram], which: Which) -> list[Finding]:
    """Each Debian program on PATH; one finding per program, all sharing one install command."""
    missing = [p for p in programs if which(p.program) is None]
    packages = sorted({p.package for p in missing})
    prefix = "" if _is_root() else "sudo "
    fix = f"{prefix}apt-get update && {prefix}apt-get install -y {' '.join(packages)}"
    findings = []
    for prog in programs:
        path = which(prog.program)
        if path is not None:
            findings.append(Finding(prog.program, Status.OK, f"{path} ({prog.needed_for})"))
        else:
            status = Status.FAIL if prog.required else Status.WARN
            detail = f"not on PATH; needed for {prog.needed_for}"
            findings.append(Finding(prog.program, status, detail, fix))
    return findings


def check_ports(ports: Sequence[PortUse], listening_ok: Callable[[PortUse], bool]) -> Finding:
    """Every loopback port of the local platform free, or held by the platform itself."""
    taken = [use for use in ports if not is_free(use.port) and not listening_ok(use)]
    if not taken:
        listed = ", ".join(str(use.port) for use in ports)
        return Finding("loopback ports", Status.OK, f"free or held by the platform: {listed}")
    parts = []
    for use in taken:
        holder = owner_of(use.port) or "another process"
        parts.append(f"127.0.0.1:{use.port} (for {use.component}) is taken by {holder}")
    return Finding(
        "loopback ports",
        Status.FAIL,
        "; ".join(parts),
        "stop the processes named above (or `librechat-ops cluster down` if an old local "
        "platform holds them)",
    )


def check_writable(directory: Path, min_free_gib: float) -> Finding:
    """The cache directory can be created and written, with room for the builds."""
    fix = "set LIBRECHAT_OPS_CACHE to a writable directory with enough free space"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Finding("cache directory", Status.FAIL, f"{directory}: {exc.strerror}", fix)
    free_gib = shutil.disk_usage(directory).free / 2**30
    if free_gib < min_free_gib:
        detail = f"{directory}: only {free_gib:.1f} GiB free, builds need {min_free_gib:.0f} GiB"
        return Finding("cache directory", Status.WARN, detail, fix)
    return Finding("cache directory", Status.OK, f"{directory} ({free_gib:.0f} GiB free)")


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def failed(findings: Sequence[Finding]) -> bool:
    """True when any required check failed."""
    return any(f.status is Status.FAIL for f in findings)

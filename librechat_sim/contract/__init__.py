"""LibreChat's own contract: the npm package ``librechat-data-provider``.

What belongs here: the pinned Node packages (``package.json``, ``package-lock.json``), the Node
checker ``check.cjs`` that validates the simulator's recorded exchanges with the package's zod
schemas and TypeScript types, the checker ``check_config.cjs`` that validates a ``librechat.yaml``
with the package's ``configSchema`` (the file the Pulumi program generates), and the calls around
them: :func:`ensure` installs the pinned packages once (``npm ci``) into a cache folder outside
the clone, :func:`check` and :func:`check_config` run the checkers. Recording the exchanges is the
caller's job (the contract test drives a running simulator).

The simulator follows LibreChat :data:`LIBRECHAT_RELEASE`, the image tag the stacks deploy; the
package version that release ships is pinned in ``package.json`` (its ``Constants.VERSION`` says
which LibreChat release built it, and the checker reports it).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SimError

HERE = Path(__file__).resolve().parent
"""This folder: package.json, package-lock.json and check.cjs."""

LIBRECHAT_RELEASE = "v0.8.8-rc1"
"""The LibreChat release the simulator follows (``librechat:imageTag`` in stacks/Pulumi.*.yaml)."""

PACKAGE = "librechat-data-provider"
"""The npm package that carries LibreChat's schemas and types."""

DATA_PROVIDER_VERSION = "0.8.521"
"""The ``librechat-data-provider`` version :data:`LIBRECHAT_RELEASE` ships, pinned in
``package.json``: the published build whose ``Constants.VERSION`` is ``v0.8.8-rc1`` (0.8.522 says
``v0.8.8-rc2``; v0.8.7 shipped 0.8.509, danny-avila/LibreChat pull request 13907)."""

_NPM_TIMEOUT_S = 600
_CHECK_TIMEOUT_S = 300


class ContractError(SimError):
    """The contract checker could not run: Node.js or npm missing, the install or the checker
    failed, or its output was unreadable."""


@dataclass(frozen=True)
class Exchange:
    """One recorded request and response of a route."""

    route: str
    """``METHOD /path``, parameters named as LibreChat names them, as in
    ``GET /api/messages/:conversationId``."""

    request: Any = None
    """The request's JSON body, a GET's query, or an upload's form fields; None when it has none."""

    response: Any = None
    """The response body (JSON, or text for ``/health``); for the SSE stream, one event's data."""

    def to_json(self) -> str:
        """One input line of the checker."""
        return json.dumps({"route": self.route, "request": self.request, "response": self.response})


@dataclass(frozen=True)
class Result:
    """The checker's verdict on one exchange."""

    route: str
    """The route, and for the SSE stream the event kind (``... created``, ``... final``)."""

    ok: bool
    """True when every check passed."""

    problems: tuple[str, ...]
    """``path: what is wrong`` for each mismatch (zod issues and type errors)."""

    notes: tuple[str, ...]
    """Paths of fields the package does not describe (not failures)."""

    checks: tuple[str, ...]
    """Which schema or type checked which part, e.g. ``response: zod tMessageSchema``."""


@dataclass(frozen=True)
class Report:
    """A checker run."""

    results: tuple[Result, ...]
    """One per exchange, in input order."""

    package: str
    """The ``librechat-data-provider`` version the checker loaded."""

    release: str
    """The LibreChat release that package was built from (its ``Constants.VERSION``)."""

    @property
    def ok(self) -> bool:
        """True when every exchange conforms."""
        return all(result.ok for result in self.results)


def pinned_version() -> str:
    """The ``librechat-data-provider`` version ``package.json`` pins."""
    manifest = json.loads((HERE / "package.json").read_text())
    return str(manifest["dependencies"][PACKAGE])


def install_dir(cache_dir: Path) -> Path:
    """Where :func:`ensure` installs: keyed by the pinned version and the lockfile's digest."""
    digest = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()[:12]
    return cache_dir / f"contract-{pinned_version()}-{digest}"


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ContractError(
            f"{name} is not installed: the contract checker needs Node.js and npm",
            hint="install them (Debian: `apt-get install nodejs npm`), then run the tests again",
        )
    return found


def ensure(cache_dir: Path) -> Path:
    """The folder whose ``node_modules`` holds the pinned packages; runs ``npm ci`` once.

    Concurrent callers wait for one install (a lock file); a failed install leaves nothing behind.
    """
    target = install_dir(cache_dir)
    marker = target / ".installed"
    if marker.exists():
        return target
    npm = _program("npm")
    _program("node")
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / f".{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return target
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=cache_dir))
        try:
            for name in ("package.json", "package-lock.json"):
                shutil.copy2(HERE / name, staging / name)
            command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
            try:
                done = subprocess.run(
                    command,
                    cwd=staging,
                    capture_output=True,
                    text=True,
                    timeout=_NPM_TIMEOUT_S,
                    check=False,
                )
                failed = done.returncode != 0
                tail = (done.stderr or done.stdout).strip().splitlines()[:4]  # npm's cause first
            except subprocess.TimeoutExpired:
                failed, tail = True, [f"no answer within {_NPM_TIMEOUT_S} s"]
            if failed:
                raise ContractError(
                    f"`npm ci` of {PACKAGE} {pinned_version()} failed: " + " | ".join(tail),
                    hint="check that the npm registry answers (`npm ping`) and that "
                    f"{cache_dir} is writable; the install is retried on the next run",
                )
            (staging / ".installed").write_text(pinned_version() + "\n")
            staging.chmod(0o755)  # mkdtemp made it private
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _run_checker(
    script: str, modules: Path, stdin: str, what: str, extra: Iterable[str] = ()
) -> subprocess.CompletedProcess[str]:
    """Run one of this folder's Node checkers on ``stdin``; a verdict is exit 0 or 1, anything
    else (or no answer in time) is a :class:`ContractError` naming ``what``."""
    node = _program("node")
    command = [node, str(HERE / script), "--modules", str(modules), *extra]
    try:
        done = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=_CHECK_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ContractError(
            f"the {what} gave no verdict within {_CHECK_TIMEOUT_S} s",
            hint="check less at once, or look for a hung node process",
        ) from exc
    if done.returncode not in (0, 1):
        raise ContractError(
            f"the {what} stopped (exit {done.returncode}): "
            + " | ".join(done.stderr.strip().splitlines()[:2]),
            hint=f"pass the folder ensure() returned; `node {HERE / script} --modules {modules} "
            "FILE` shows the whole error",
        )
    return done


def check(exchanges: Iterable[Exchange], modules: Path) -> Report:
    """Run the checker over ``exchanges`` with the packages installed in ``modules`` (from
    :func:`ensure`)."""
    lines = "".join(exchange.to_json() + "\n" for exchange in exchanges)
    done = _run_checker("check.cjs", modules, lines, "contract checker", ["--json"])
    try:
        rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        summary = rows.pop()
        results = tuple(
            Result(
                route=row["route"],
                ok=bool(row["ok"]),
                problems=tuple(row["problems"]),
                notes=tuple(row["notes"]),
                checks=tuple(row["checks"]),
            )
            for row in rows
        )
        return Report(results, package=summary["package"], release=summary["release"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ContractError(
            f"the contract checker's output is unreadable ({exc}): {done.stdout[-400:]}",
            hint="the checker and this module disagree on the output format: update both",
        ) from exc


@dataclass(frozen=True)
class ConfigVerdict:
    """LibreChat's schema on one ``librechat.yaml``."""

    ok: bool
    """True when the schema accepts it and knows every key."""
    issues: tuple[str, ...]
    """``path: message`` for each zod issue."""
    unknown: tuple[str, ...]
    """Keys the schema does not know (it would drop them silently)."""
    package: str
    """The ``librechat-data-provider`` version that judged."""
    release: str
    """The LibreChat release that package was built from."""
    config_version: str
    """The configuration format version that package expects (``Constants.CONFIG_VERSION``)."""


def check_config(config: Any, modules: Path) -> ConfigVerdict:
    """Judge ``config`` (a ``librechat.yaml`` as parsed) with ``configSchema`` of the packages
    installed in ``modules`` (from :func:`ensure`)."""
    done = _run_checker("check_config.cjs", modules, json.dumps(config), "configuration checker")
    try:
        row = json.loads(done.stdout)
        return ConfigVerdict(
            ok=bool(row["ok"]),
            issues=tuple(row["issues"]),
            unknown=tuple(row["unknown"]),
            package=row["package"],
            release=row["release"],
            config_version=row["configVersion"],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ContractError(
            f"the configuration checker's output is unreadable ({exc}): {done.stdout[-400:]}",
            hint="the checker and this module disagree on the output format: update both",
        ) from exc

"""LiteLLM's proxy, the AI gateway, installed from PyPI into its own virtual environment.

``litellm[proxy]`` brings about 115 packages (FastAPI, boto3, the OpenAI client...) whose pins
clash with the toolkit's own, so it lives in a venv of its own, created with the running Python
and cached outside the clone, keyed by version: ``<cache>/litellm-<version>/bin/litellm``. The
install is pinned by ``litellm-constraints.txt`` beside this module and marked finished by
``INSTALL-INFO.json`` (written last); a venv made by another Python or from other pins is
installed again. About a minute the first time (measured: 55 s with an empty pip cache on two
cores), instant afterwards. The simulator runs the proxy between its API replicas and its mock
LLMs (``librechat_sim.gateway``).

Version choice: 1.108.7 is the newest patch of the 1.108 long-term-support line whose pinned
``litellm-enterprise``/``litellm-proxy-extras`` PyPI serves (1.108.8+ and 1.109+ pin releases it
does not). PyPI's 1.82.7 and 1.82.8 were a supply-chain compromise that ran a credential stealer
from a ``.pth`` file at interpreter start (BerriAI/litellm#24518), so the install refuses a venv
holding any ``.pth`` file but setuptools' own.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .errors import BuildError

VERSION = "1.108.7"
"""``litellm`` on PyPI; the production image ``ghcr.io/berriai/litellm-non_root:v<VERSION>``
(row ``litellm`` of ``k8s_operator.images``) runs the same release."""

CONSTRAINTS = Path(__file__).with_name("litellm-constraints.txt")
"""Every package of the venv, pinned."""

EXTRAS = ("prometheus_client",)
"""Installed beside ``litellm[proxy]``: its ``prometheus`` callback serves ``/metrics``."""

ALLOWED_PTH = frozenset({"distutils-precedence.pth"})
"""``.pth`` files a clean venv holds (setuptools'); any other one runs code at every start."""

PIP_TIMEOUT_S = 900.0
"""Longest the ``pip install`` may take (a slow mirror on a cold cache)."""


def venv_dir(cache_dir: Path, version: str = VERSION) -> Path:
    """The virtual environment of ``version``."""
    return cache_dir / f"litellm-{version}"


def _stamp(version: str) -> dict[str, str]:
    """What a finished install must match: the release, the Python and the pins."""
    pins = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()[:16]
    return {"version": version, "python": platform.python_version(), "constraints": pins}


def executable(cache_dir: Path, version: str = VERSION) -> Path | None:
    """The installed ``litellm`` of ``version``, or ``None`` when it must be installed (first)."""
    out = venv_dir(cache_dir, version)
    try:
        info = json.loads((out / "INSTALL-INFO.json").read_text())
    except (OSError, ValueError):
        return None
    program = out / "bin" / "litellm"
    fresh = all(info.get(k) == v for k, v in _stamp(version).items())
    return program if fresh and program.is_file() else None


def ensure(cache_dir: Path, version: str = VERSION) -> Path:
    """The path of ``litellm``, installed first when missing; raises :class:`BuildError`."""
    found = executable(cache_dir, version)
    if found is not None:
        return found
    started = time.monotonic()
    out = venv_dir(cache_dir, version)
    log = cache_dir / f"litellm-{version}-install.log"
    # A venv is not relocatable (its scripts name its python), so it is built in place and only
    # counts as installed once INSTALL-INFO.json is written; a partial one is started afresh.
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    python = out / "bin" / "python"
    _run([sys.executable, "-m", "venv", str(out)], log, "create the virtual environment")
    _run(
        [
            str(python), "-m", "pip", "install", "--disable-pip-version-check",
            "--no-input", "-c", str(CONSTRAINTS), f"litellm[proxy]=={version}", *EXTRAS,
        ],
        log,
        f"install litellm[proxy]=={version} from PyPI",
    )  # fmt: skip
    _refuse_startup_hooks(out)
    info = _stamp(version) | {"seconds": str(round(time.monotonic() - started, 1))}
    (out / "INSTALL-INFO.json").write_text(json.dumps(info, indent=2) + "\n")
    return out / "bin" / "litellm"


def _run(argv: list[str], log: Path, what: str) -> None:
    with log.open("ab") as out:
        out.write(f"$ {' '.join(argv)}\n".encode())
        out.flush()
        try:
            done = subprocess.run(
                argv, stdout=out, stderr=subprocess.STDOUT, timeout=PIP_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise BuildError(
                f"could not {what} within {PIP_TIMEOUT_S:g}s",
                hint=f"check that PyPI answers (`pip download litellm=={VERSION}`); log: {log}",
                log_tail=_tail(log),
            ) from None
    if done.returncode != 0:
        raise BuildError(
            f"could not {what} (exit {done.returncode})",
            hint="check that PyPI answers and serves every pin of "
            f"{CONSTRAINTS.name} for Python {platform.python_version()}; log: {log}",
            log_tail=_tail(log),
        )


def _refuse_startup_hooks(out: Path) -> None:
    """Fail (and remove the venv) when a package left a ``.pth`` file that runs at start."""
    hooks = sorted(p.name for p in out.glob("lib/python*/site-packages/*.pth"))
    unexpected = [name for name in hooks if name not in ALLOWED_PTH]
    if unexpected:
        shutil.rmtree(out, ignore_errors=True)
        raise BuildError(
            f"the LiteLLM install left start-up hooks {', '.join(unexpected)}: code that runs "
            "in every Python of that venv (how PyPI's compromised litellm 1.82.8 stole secrets)",
            hint="do not use this install; check the packages' provenance before pinning them "
            f"in {CONSTRAINTS.name}",
        )


def _tail(log: Path, lines: int = 25) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""

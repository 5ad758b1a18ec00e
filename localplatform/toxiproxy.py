"""Toxiproxy, the fault proxy for network chaos, built from the Go module proxy like the platform.

``toxiproxy-server`` (github.com/Shopify/toxiproxy/v2) is not part of the platform's control plane,
so it has its own version and cache key: ``<cache>/bin/toxiproxy-<version>-r<n>/toxiproxy-server``,
marked finished by ``BUILD-INFO.json`` and never rebuilt once complete (about 15 s the first time).
The simulator runs it in front of its Redis and mock LLM; the chaos extension drives its HTTP API.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from .build import run_go
from .errors import BuildError

VERSION = "v2.12.0"
"""github.com/Shopify/toxiproxy/v2, the release whose API chaostoolkit-toxiproxy drives."""

MODULE = "github.com/Shopify/toxiproxy/v2"
PACKAGE = f"{MODULE}/cmd/server"
RECIPE = 1
"""Bumped when the way the binary is built changes, so a stale build is not reused."""


def bin_dir(cache_dir: Path, version: str = VERSION) -> Path:
    """Where the finished ``toxiproxy-server`` of ``version`` lives."""
    return cache_dir / "bin" / f"toxiproxy-{version}-r{RECIPE}"


def server_path(cache_dir: Path, version: str = VERSION) -> Path | None:
    """The built ``toxiproxy-server``, or ``None`` when it is not built yet."""
    out = bin_dir(cache_dir, version)
    return out / "toxiproxy-server" if (out / "BUILD-INFO.json").is_file() else None


def ensure(cache_dir: Path, version: str = VERSION, *, go: str = "go") -> Path:
    """The path of ``toxiproxy-server``, built first when missing; raises :class:`BuildError`."""
    built = server_path(cache_dir, version)
    if built is not None:
        return built
    if shutil.which(go) is None:
        raise BuildError(
            "the Go toolchain (`go`) is not on PATH; Toxiproxy is built from source",
            hint="install Go 1.26 or newer and put its bin directory on PATH",
        )
    started = time.monotonic()
    key = bin_dir(cache_dir, version).name
    work = cache_dir / "go-workspaces" / key
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "go.mod").exists():
        run_go(go, work, "mod", "init", "local/toxiproxy-build")
    run_go(go, work, "get", "-tool", f"{PACKAGE}@{version}")
    out = bin_dir(cache_dir, version)
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    ldflags = f"-s -w -X {MODULE}.Version={version.removeprefix('v')}"
    target = staging / "toxiproxy-server"
    run_go(go, work, "build", "-trimpath", "-ldflags", ldflags, "-o", str(target), PACKAGE)
    info = {
        "component": "toxiproxy",
        "version": version,
        "recipe": RECIPE,
        "go": run_go(go, work, "env", "GOVERSION").strip(),
        "seconds": round(time.monotonic() - started, 1),
        "outputs": ["toxiproxy-server"],
    }
    (staging / "BUILD-INFO.json").write_text(json.dumps(info, indent=2) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return out / "toxiproxy-server"

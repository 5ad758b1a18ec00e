"""Build the control plane's Go components from the Go module proxy into the version-keyed cache.

Each component gets a throwaway Go module (kept under ``<cache>/go-workspaces/<key>``) that requires
it, then ``go build`` writes the binaries into ``<cache>/bin/<key>``. A finished build is marked by
``BUILD-INFO.json``; a key is never rebuilt once complete. Go's own module and build caches
(``GOMODCACHE``, ``GOCACHE``) stay where the user keeps them, so later builds are incremental.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError
from .versions import RECIPE, Versions

Progress = Callable[[str, int, int], None]
"""``progress(message, done, total)``: called as a build moves on (``total`` 0 when unknown)."""

GO_ENV = {"GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
"""Never download another toolchain, build static binaries, let ``go build`` fill go.sum."""

_TAIL_LINES = 25
_REFUSED = re.compile(
    r"\b(403|404|410) |unknown revision|not available|invalid version|no matching versions"
)
"""How ``go`` reports that the module proxy does not serve a module version."""


@dataclass(frozen=True)
class Binaries:
    """Paths of everything the platform runs from the cache."""

    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    etcd: Path
    kwok: Path
    kwok_stages: Path
    """kwok's stage definitions (node and pod lifecycles), taken from the kwok module."""


@dataclass(frozen=True)
class _Recipe:
    name: str
    version: str
    packages: tuple[str, ...]
    outputs: tuple[str, ...]
    ldflags: str
    tags: str = ""


def _recipes(v: Versions) -> tuple[_Recipe, ...]:
    stamp = " ".join(
        f"-X k8s.io/component-base/version.{key}={value}"
        for key, value in (
            ("gitVersion", v.kubernetes),
            ("gitMajor", "1"),
            ("gitMinor", v.kubernetes_minor),
            ("gitTreeState", "clean"),
            ("buildDate", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
        )
    )
    return (
        _Recipe(
            "kubernetes",
            v.kubernetes,
            tuple(
                f"k8s.io/kubernetes/cmd/{c}"
                for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
            ),
            ("kube-apiserver", "kube-controller-manager", "kube-scheduler"),
            f"-s -w {stamp}",
            tags="selinux,notest",
        ),
        _Recipe("etcd", v.etcd, ("go.etcd.io/etcd/server/v3",), ("etcd",), "-s -w"),
        _Recipe(
            "kwok",
            v.kwok,
            ("sigs.k8s.io/kwok/cmd/kwok",),
            ("kwok",),
            f"-s -w -X sigs.k8s.io/kwok/pkg/consts.Version={v.kwok.removeprefix('v')}",
        ),
    )


KWOK_STAGES = (
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/fast/pod-ready.yaml",
    "pod/fast/pod-complete.yaml",
    "pod/fast/pod-delete.yaml",
)
"""kwok's own stages (under ``kustomize/stage`` in its module): nodes go Ready and keep their
leases, pods go Running at once, complete and are deleted."""


class Builder:
    """Builds and finds the platform's binaries in ``cache_dir``."""

    def __init__(
        self,
        cache_dir: Path,
        versions: Versions | None = None,
        *,
        go: str = "go",
        progress: Progress | None = None,
    ) -> None:
        self.cache_dir = cache_dir
        self.versions = versions or Versions()
        self.go = go
        self.progress: Progress = progress or (lambda _msg, _done, _total: None)

    def key(self, recipe_name: str, version: str) -> str:
        """The cache key of one component: name, version and recipe revision."""
        return f"{recipe_name}-{version}-r{RECIPE}"

    def bin_dir(self, recipe_name: str, version: str) -> Path:
        """Where one component's finished binaries live."""
        return self.cache_dir / "bin" / self.key(recipe_name, version)

    def missing(self) -> list[str]:
        """Names of the components not built yet for these versions."""
        return [
            r.name
            for r in _recipes(self.versions)
            if not (self.bin_dir(r.name, r.version) / "BUILD-INFO.json").is_file()
        ]

    def binaries(self) -> Binaries:
        """The binaries' paths; raises :class:`BuildError` when some are not built."""
        missing = self.missing()
        if missing:
            raise BuildError(
                f"not built yet: {', '.join(missing)}",
                hint="run `librechat-ops cluster build` (or `cluster up`, which builds first)",
            )
        v = self.versions
        k8s = self.bin_dir("kubernetes", v.kubernetes)
        kwok = self.bin_dir("kwok", v.kwok)
        return Binaries(
            kube_apiserver=k8s / "kube-apiserver",
            kube_controller_manager=k8s / "kube-controller-manager",
            kube_scheduler=k8s / "kube-scheduler",
            etcd=self.bin_dir("etcd", v.etcd) / "etcd",
            kwok=kwok / "kwok",
            kwok_stages=kwok / "stages.yaml",
        )

    def ensure(self) -> Binaries:
        """Build whatever is missing, then return the binaries."""
        todo = [r for r in _recipes(self.versions) if r.name in self.missing()]
        if todo and shutil.which(self.go) is None:
            raise BuildError(
                "the Go toolchain (`go`) is not on PATH; the local platform is built from source",
                hint="install Go 1.26 or newer and put its bin directory on PATH, "
                "then check with `librechat-ops doctor`",
            )
        for recipe in todo:
            self._build(recipe)
        return self.binaries()

    # ------------------------------------------------------------------ one component

    def _build(self, r: _Recipe) -> None:
        started = time.monotonic()
        work = self.cache_dir / "go-workspaces" / self.key(r.name, r.version)
        work.mkdir(parents=True, exist_ok=True)
        self.progress(f"{r.name} {r.version}: resolving modules", 0, 0)
        if not (work / "go.mod").exists():
            self._go(work, "mod", "init", f"local/{r.name}-build")
        if r.name == "kubernetes":
            self._pin_kubernetes_staging(work)
        self._go(work, "get", "-tool", *(f"{pkg}@{r.version}" for pkg in r.packages))

        out = self.bin_dir(r.name, r.version)
        staging = out.with_name(out.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        total = len(self._go(work, "list", "-deps", *r.packages).split())
        # One package: name the file (Go would call go.etcd.io/etcd/server/v3 "server").
        target = f"{staging}/{r.outputs[0]}" if len(r.packages) == 1 else f"{staging}/"
        args = ["build", "-v", "-trimpath", "-ldflags", r.ldflags, "-o", target]
        if r.tags:
            args += ["-tags", r.tags]
        self._go_build(work, [*args, *r.packages], r, total)
        absent = [name for name in r.outputs if not (staging / name).is_file()]
        if absent:
            raise BuildError(f"`go build` for {r.name} produced no {', '.join(absent)}")
        if r.name == "kwok":
            self._copy_kwok_stages(work, staging / "stages.yaml")
        info = {
            "component": r.name,
            "version": r.version,
            "recipe": RECIPE,
            "go": self._go(work, "env", "GOVERSION").strip(),
            "seconds": round(time.monotonic() - started, 1),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
            "outputs": list(r.outputs),
        }
        (staging / "BUILD-INFO.json").write_text(json.dumps(info, indent=2) + "\n")
        shutil.rmtree(out, ignore_errors=True)
        staging.rename(out)
        self.progress(f"{r.name} {r.version}: built in {info['seconds']} s", 1, 1)

    def _pin_kubernetes_staging(self, work: Path) -> None:
        """k8s.io/kubernetes requires its staging modules at v0.0.0 with local replaces; as a
        dependency every one of them must be replaced with its published version."""
        v = self.versions
        meta = json.loads(
            self._go(work, "mod", "download", "-json", f"k8s.io/kubernetes@{v.kubernetes}")
        )
        gomod = Path(meta["GoMod"]).read_text()
        go_line = re.search(r"^go (\S+)$", gomod, re.MULTILINE)
        edits = [f"-go={go_line[1]}"] if go_line else []
        staging = re.findall(r"^\s*(k8s\.io/[a-z0-9-]+) => \./staging/", gomod, re.MULTILINE)
        if not staging:
            raise BuildError(f"k8s.io/kubernetes@{v.kubernetes} lists no staging modules")
        edits += [f"-replace={m}={m}@{v.staging}" for m in staging]
        self._go(work, "mod", "edit", *edits)
        godebug = re.findall(r"^godebug .*$", gomod, re.MULTILINE)
        text = (work / "go.mod").read_text()
        if godebug and godebug[0] not in text:
            (work / "go.mod").write_text(text + "\n" + "\n".join(godebug) + "\n")

    def _copy_kwok_stages(self, work: Path, target: Path) -> None:
        module_dir = Path(
            self._go(work, "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kwok").strip()
        )
        docs = [(module_dir / "kustomize" / "stage" / rel).read_text() for rel in KWOK_STAGES]
        target.write_text("".join(f"---\n{doc.strip()}\n" for doc in docs))

    # ------------------------------------------------------------------ running go

    def _env(self) -> dict[str, str]:
        return {**os.environ, **GO_ENV}

    def _go(self, work: Path, *args: str) -> str:
        return run_go(self.go, work, *args)

    def _go_build(self, work: Path, args: Sequence[str], r: _Recipe, total: int) -> None:
        lines: list[str] = []
        label = f"{r.name} {r.version}: compiling"
        with subprocess.Popen(
            [self.go, *args],
            cwd=work,
            env=self._env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line.rstrip())
                self.progress(label, len(lines), total)
        if proc.returncode != 0:
            raise _go_failure(args, "\n".join(lines))


def run_go(go: str, work: Path, *args: str, timeout: float = 3600) -> str:
    """``go ARGS`` in ``work`` with the build environment; its output, or :class:`BuildError`
    naming the cause."""
    try:
        done = subprocess.run(
            [go, *args],
            cwd=work,
            env={**os.environ, **GO_ENV},
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"`go {args[0]}` could not run: {exc}") from exc
    if done.returncode != 0:
        raise _go_failure(args, done.stderr)
    return done.stdout


def _go_failure(args: Sequence[str], output: str) -> BuildError:
    tail = "\n".join(output.strip().splitlines()[-_TAIL_LINES:])
    refused = _REFUSED.search(output) is not None
    hint = (
        "the Go module proxy refused a module: check the pinned versions in "
        "localplatform/versions.py and that the proxy (`go env GOPROXY`) is reachable"
        if refused
        else "read the Go output above; `go env` shows the toolchain's settings"
    )
    return BuildError(f"`go {' '.join(args[:2])}` failed", hint=hint, log_tail=tail)

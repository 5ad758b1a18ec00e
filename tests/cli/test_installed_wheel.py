"""The toolkit as ``pip install`` gives it: the wheel built from this tree, installed with plain
pip into a fresh virtual environment, no constraints file (so with the newest versions
``pyproject.toml`` admits), then used from a directory outside the checkout: ``operator install``
against the local platform, ``plan --env laptop`` (the stack files travel in the wheel) and a
short ``backtest``.

Slow the first time on a machine (pip downloads every dependency; later runs use pip's cache).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from k8s_operator import crds
from localplatform.cluster import LocalPlatform

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT_S = 900


def _sources(into: Path) -> Path:
    """The files git would commit (tracked, and new ones not ignored), copied to ``into``: the
    wheel is built from what a fresh clone holds, never from a stale ``build/`` here."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{argv}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _trace(path: Path) -> Path:
    """Three days of a daily cycle at 5-minute steps, as ``timestamp,requests``."""
    rows = ["timestamp,requests"]
    for step in range(3 * 288):
        rate = 400 + 300 * math.sin(2 * math.pi * step / 288) + 40 * math.sin(step / 7)
        rows.append(f"{step * 300},{round(rate)}")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``bin/`` of a fresh environment with the wheel installed by plain pip."""
    base = tmp_path_factory.mktemp("wheel")
    tree = _sources(base / "tree")
    env_dir = base / "env"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    plain = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
    _run(
        [python, "-m", "pip", "wheel", "-q", "--no-deps", str(tree), "-w", str(base / "dist")],
        cwd=base, env=plain, timeout=INSTALL_TIMEOUT_S,
    )  # fmt: skip
    (wheel,) = (base / "dist").glob("librechat_ops-*.whl")
    _run(
        [python, "-m", "pip", "install", "-q", str(wheel)],
        cwd=base, env=plain, timeout=INSTALL_TIMEOUT_S,
    )  # fmt: skip
    return env_dir / "bin"


def _env(tmp_path: Path) -> dict[str, str]:
    return os.environ | {"LIBRECHAT_OPS_STATE": str(tmp_path / "state"), "COLUMNS": "200"}


def test_the_wheel_carries_the_program_and_its_data_files(installed: Path) -> None:
    listing = _run(
        [str(installed / "python"), "-c", "import components.stackfile as s; "
         "d = s.default_program_dir(); print(d); print(sorted(p.name for p in d.iterdir()))"],
        cwd=installed, env=dict(os.environ), timeout=60,
    )  # fmt: skip
    assert "site-packages/components/program" in listing
    for name in ("__main__.py", "config.py", "Pulumi.laptop.yaml", "Pulumi.production.yaml"):
        assert name in listing


def test_plan_reads_the_stack_files_of_the_installed_package(
    installed: Path, tmp_path: Path
) -> None:
    out = _run(
        [str(installed / "librechat-ops"), "plan", "--env", "laptop"],
        cwd=tmp_path, env=_env(tmp_path), timeout=300,
    )  # fmt: skip
    assert out.startswith("laptop: "), out
    assert "resources in" in out.splitlines()[0]


def test_a_short_backtest_runs_from_the_installed_package(installed: Path, tmp_path: Path) -> None:
    report = tmp_path / "backtest.json"
    out = _run(
        [str(installed / "librechat-ops"), "backtest", "--trace", str(_trace(tmp_path / "t.csv")),
         "--start", "+1d", "--json", str(report)],
        cwd=tmp_path, env=_env(tmp_path), timeout=300,
    )  # fmt: skip
    assert report.stat().st_size > 0, out
    assert "predictive" in out


def test_operator_install_works_with_the_newest_kubernetes_client(
    installed: Path, tmp_path: Path, local_platform: LocalPlatform
) -> None:
    version = _run(
        [str(installed / "python"), "-c", "import kubernetes; print(kubernetes.__version__)"],
        cwd=tmp_path, env=dict(os.environ), timeout=60,
    ).strip()  # fmt: skip
    env = _env(tmp_path) | {"KUBECONFIG": str(local_platform.layout.kubeconfig)}
    out = _run(
        [str(installed / "librechat-ops"), "operator", "install"],
        cwd=tmp_path, env=env, timeout=180,
    )  # fmt: skip
    assert "Operator CRDs and RBAC installed." in out, f"kubernetes {version}: {out}"
    established = local_platform.api().request(
        "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    )
    names = {c["metadata"]["name"] for c in established["items"]}
    assert {c["metadata"]["name"] for c in crds.definitions()} <= names

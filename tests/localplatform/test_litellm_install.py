"""LiteLLM's venv in the cache: found only when finished for this Python and these pins, refused
when a package left a start-up hook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localplatform import litellm
from localplatform.errors import BuildError


def _fake_install(cache: Path, **stamp: str) -> Path:
    """A venv directory as ``ensure`` leaves it: the executable and its INSTALL-INFO.json."""
    out = litellm.venv_dir(cache)
    (out / "bin").mkdir(parents=True)
    (out / "bin" / "litellm").write_text("#!/bin/sh\n")
    (out / "INSTALL-INFO.json").write_text(json.dumps(stamp))
    return out


def test_a_finished_install_for_this_python_and_these_pins_is_found(tmp_path: Path) -> None:
    out = _fake_install(tmp_path, **litellm._stamp(litellm.VERSION))
    assert litellm.executable(tmp_path) == out / "bin" / "litellm"
    assert litellm.venv_dir(tmp_path).name == f"litellm-{litellm.VERSION}"


@pytest.mark.parametrize(
    "change", [{"python": "3.0.0"}, {"constraints": "0" * 16}, {"version": "1.0.0"}]
)
def test_an_install_for_another_python_or_other_pins_is_installed_again(
    tmp_path: Path, change: dict[str, str]
) -> None:
    _fake_install(tmp_path, **(litellm._stamp(litellm.VERSION) | change))
    assert litellm.executable(tmp_path) is None


def test_an_unfinished_install_is_not_used(tmp_path: Path) -> None:
    out = _fake_install(tmp_path, **litellm._stamp(litellm.VERSION))
    (out / "INSTALL-INFO.json").unlink()
    assert litellm.executable(tmp_path) is None


def test_a_start_up_hook_left_by_a_package_is_refused_and_the_venv_removed(
    tmp_path: Path,
) -> None:
    out = _fake_install(tmp_path)
    site = out / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (site / "distutils-precedence.pth").write_text("import os\n")
    litellm._refuse_startup_hooks(out)  # setuptools' own is expected
    (site / "litellm_init.pth").write_text("import os\n")
    with pytest.raises(BuildError, match=r"start-up hooks litellm_init\.pth") as refused:
        litellm._refuse_startup_hooks(out)
    assert "litellm-constraints.txt" in (refused.value.hint or "")
    assert not out.exists()


def test_every_pin_is_exact() -> None:
    pins = [
        line
        for line in litellm.CONSTRAINTS.read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert len(pins) > 100
    assert all("==" in line for line in pins)
    assert not any(line.startswith("litellm==") for line in pins)  # litellm.VERSION pins it
    assert any(line.startswith("prometheus_client==") for line in pins)

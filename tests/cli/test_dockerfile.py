"""The Dockerfile builds the operator's image from everything the wheel is made of (no container
runtime runs here, so the build itself is not run: its inputs are checked against pyproject's
package list and setup.py's copy of the Pulumi program)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _copied() -> set[str]:
    copied: set[str] = set()
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        match = re.match(r"^COPY\s+(.+)\s+\S+$", line.strip())
        if match and "--from" not in line:
            copied |= set(match.group(1).split())
    return copied


def test_the_image_copies_every_package_and_the_program() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    copied = _copied()
    assert packages <= copied, packages - copied
    assert {"pyproject.toml", "setup.py", "constraints.txt", "Pulumi.yaml", "stacks"} <= copied

"""Build hook, and only that (the project's metadata is in ``pyproject.toml``).

The Pulumi program (``stacks/``: its ``__main__.py``, ``config.py`` and the committed
``Pulumi.<env>.yaml``) and ``Pulumi.yaml`` live outside every package, as Pulumi expects. An
installed toolkit reads them all the same (``plan``, ``verify``'s gateway settings), so the
wheel carries a copy in ``components/program/``; ``components.stackfile`` looks there first.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
PROGRAM = ("stacks/__main__.py", "stacks/config.py", "stacks/Pulumi.*.yaml", "Pulumi.yaml")


class BuildWithProgram(build_py):
    """``build_py``, then the Pulumi program copied into ``components/program/``."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "components" / "program"
        target.mkdir(parents=True, exist_ok=True)
        for pattern in PROGRAM:
            found = sorted(HERE.glob(pattern))
            if not found:
                raise SystemExit(f"the wheel needs {pattern}, which this tree lacks")
            for path in found:
                shutil.copy2(path, target / path.name)


setup(cmdclass={"build_py": BuildWithProgram})

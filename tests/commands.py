"""Running ``librechat-ops`` as a user would, in a subprocess with its own state directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    *args: str, state: Path, timeout: float = 150, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``librechat-ops ARGS`` with ``LIBRECHAT_OPS_STATE=state``, wide output and ``env`` added to
    the environment; never raises on a non-zero exit (the tests look at it)."""
    env = os.environ | {"LIBRECHAT_OPS_STATE": str(state), "COLUMNS": "200"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "librechat_ops", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )

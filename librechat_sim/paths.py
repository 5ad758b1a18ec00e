"""Where the simulator keeps its files: the toolkit's state directory rule, in one place.

The state directory is ``$LIBRECHAT_OPS_STATE``, else ``$XDG_STATE_HOME/librechat-ops``, else
``~/.local/state/librechat-ops``; the simulator's own files are under its ``sim/`` folder.
Every reader (the command line's settings, the chaos extension, the simulator) uses this rule.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

STATE_ENV = "LIBRECHAT_OPS_STATE"
"""The variable that names the toolkit's state directory."""


def state_dir(env: Mapping[str, str] | None = None, configured: str | None = None) -> Path:
    """The toolkit's state directory: ``configured`` when given, else the rule above applied to
    ``env`` (the process environment by default)."""
    if configured:
        return Path(configured).expanduser()
    env = os.environ if env is None else env
    if env.get(STATE_ENV):
        return Path(env[STATE_ENV]).expanduser()
    home = Path(env.get("HOME") or Path.home())
    return Path(env.get("XDG_STATE_HOME") or home / ".local" / "state") / "librechat-ops"


def sim_dir(state: Path) -> Path:
    """The simulator's folder under the state directory ``state``."""
    return state / "sim"


def cluster_file(state: Path) -> Path:
    """``cluster.json``: the running simulator's description."""
    return sim_dir(state) / "cluster.json"


def chaos_dir(state: Path) -> Path:
    """Notes chaos experiments keep about this simulator (canaries, cut streams); a new
    simulator starts without them."""
    return sim_dir(state) / "chaos"

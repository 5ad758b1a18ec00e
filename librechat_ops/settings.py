"""Where the toolkit keeps its files, read from the environment in this one place.

Every other module receives a :class:`Settings` instance; none of them reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from librechat_sim import paths


@dataclass(frozen=True)
class Settings:
    """The toolkit's directories."""

    cache_dir: Path
    """Expensive, version-keyed builds (the Go binaries) that survive clones:
    ``$LIBRECHAT_OPS_CACHE`` or ``$XDG_CACHE_HOME/librechat-ops`` (``~/.cache/librechat-ops``)."""

    state_dir: Path
    """Runtime state of local services (data, logs, pid files, kubeconfig): ``$LIBRECHAT_OPS_STATE``
    or ``$XDG_STATE_HOME/librechat-ops`` (``~/.local/state/librechat-ops``)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (the process environment by default)."""
        env = os.environ if env is None else env
        home = Path(env.get("HOME") or Path.home())
        cache_root = Path(env.get("XDG_CACHE_HOME") or home / ".cache")
        return cls(
            cache_dir=Path(env.get("LIBRECHAT_OPS_CACHE") or cache_root / "librechat-ops"),
            state_dir=paths.state_dir(env),
        )

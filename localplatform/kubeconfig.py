"""Kubeconfig files for the local API server: one per identity, token-authenticated."""

from __future__ import annotations

from pathlib import Path

import yaml

CONTEXT = "librechat-local"


def write(path: Path, *, server: str, ca_file: Path, token: str) -> None:
    """Write a kubeconfig that reaches ``server`` with ``token``, trusting ``ca_file``."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": CONTEXT, "cluster": {"server": server, "certificate-authority": str(ca_file)}}
        ],
        "users": [{"name": CONTEXT, "user": {"token": token}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT}}],
        "current-context": CONTEXT,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)

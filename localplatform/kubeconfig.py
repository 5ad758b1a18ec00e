"""Kubeconfig files for the local API server: one per identity, token-authenticated."""

from __future__ import annotations

import os
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
    # Created readable by the owner only: it holds a bearer token.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)

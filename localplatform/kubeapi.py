"""The few Kubernetes API calls the platform itself makes (nodes), over plain HTTPS.

The platform needs only to list, create and delete nodes; a small urllib client keeps the official
Kubernetes client (and its import time) out of ``cluster up``.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import PlatformError


@dataclass(frozen=True)
class KubeApi:
    """An authenticated client of one API server."""

    server: str
    ca_file: Path
    token: str

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Send one request; return the decoded JSON answer, raising on any non-2xx status."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Accept", "application/json")
        if data is not None:
            patch = "application/merge-patch+json"
            req.add_header("Content-Type", patch if method == "PATCH" else "application/json")
        context = ssl.create_default_context(cafile=str(self.ca_file))
        try:
            with urllib.request.urlopen(req, timeout=30, context=context) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise PlatformError(f"{method} {path} answered {exc.code}: {detail}") from exc
        except (OSError, urllib.error.URLError) as exc:
            raise PlatformError(f"{method} {path} failed: {exc}") from exc

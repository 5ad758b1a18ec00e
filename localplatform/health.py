"""Health probes over loopback HTTP(S), with the platform's CA and tokens."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Probe:
    """One health endpoint: healthy when it answers 200."""

    url: str
    ca_file: Path | None = None
    """The CA that signs the endpoint's certificate (https only)."""
    token: str | None = None
    """Bearer token, where the endpoint needs authentication."""

    def check(self, timeout: float = 2.0) -> bool:
        """True when the endpoint answers 200 within ``timeout`` seconds."""
        request = urllib.request.Request(self.url)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        context = None
        if self.url.startswith("https:"):
            context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
                return int(response.status) == 200
        except (OSError, urllib.error.URLError, ssl.SSLError, ValueError):
            return False

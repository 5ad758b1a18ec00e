"""LibreChat's ``uaParser`` middleware: requests whose User-Agent names no browser are refused.

LibreChat runs ``ua-parser-js`` on the ``User-Agent`` header and, when it finds no browser name,
logs a ``non_browser`` violation and answers ``{"message": "Illegal request"}``. This module keeps
the same decision with the browser tokens ``ua-parser-js`` recognises most often, and the browser
identity every client of the simulator (the journeys, the chaos probes, the warm-up) sends.
"""

from __future__ import annotations

import re

_BROWSER = re.compile(
    r"(?:Chrome|Chromium|CriOS|Firefox|FxiOS|Edg|EdgA|EdgiOS|OPR|Opera|SamsungBrowser|"
    r"Vivaldi|YaBrowser|Brave|Version/[\d.]+ (?:Mobile/\w+ )?Safari)/?[\d.]*",
)

BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
"""A desktop Chrome: LibreChat refuses requests whose User-Agent names no browser."""

ILLEGAL_REQUEST = {"message": "Illegal request"}
"""LibreChat's body for a refused non-browser request."""


def is_browser(user_agent: str | None) -> bool:
    """True when ``user_agent`` names a web browser, as LibreChat's ``uaParser`` requires."""
    if not user_agent or not user_agent.startswith("Mozilla/"):
        return False
    return _BROWSER.search(user_agent) is not None

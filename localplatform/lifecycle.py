"""The lifecycle endpoint Prometheus and Alertmanager share: ``POST /-/reload`` rereads the
configuration (and Prometheus's rule files) without a restart.

Prometheus serves it only with ``--web.enable-lifecycle``; Alertmanager always does (its
``docs/management_api.md``). Both answer 200 once the new configuration is in force, and 500 when
they refuse it, keeping the old one: Alertmanager says why ("failed to reload config: undefined
receiver ..."), Prometheus only that applying it failed, the cause being in its log (observed with
Prometheus 2.42 and Alertmanager 0.25).
"""

from __future__ import annotations

import urllib.error
import urllib.request

from .errors import ReloadError


def reload(base_url: str, name: str, *, timeout: float = 30.0) -> bool:
    """Ask the server at ``base_url`` to reload; False when nothing answers there (not running).

    Raises :class:`ReloadError` with the server's reason when it refuses the new configuration.
    """
    request = urllib.request.Request(f"{base_url}/-/reload", data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        reason = exc.read().decode(errors="replace").strip() or exc.reason
        raise ReloadError(
            f"{name} refused to reload: {reason}",
            hint=f"fix the file it names, then reload again (POST {base_url}/-/reload)",
        ) from None
    except (urllib.error.URLError, OSError):
        return False
    return True

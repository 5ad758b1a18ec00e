"""The one module that talks to Toxiproxy's HTTP API, and where that API is.

The address comes from the experiment's configuration with chaostoolkit-toxiproxy's keys,
``toxiproxy_host`` (default 127.0.0.1) and ``toxiproxy_port``; without a port, the port of the
Toxiproxy the local simulator runs (its ``cluster.json``), else Toxiproxy's usual 8474.
Each failure becomes a :mod:`chaos.errors` error that says what to do.
"""

from __future__ import annotations

from typing import Any

import requests

from librechat_sim import description
from librechat_sim.errors import SimError
from librechat_sim.paths import state_dir

from ..errors import ChaosError, TargetNotFoundError, UnreachableError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8474
"""Toxiproxy's usual API port (``toxiproxy-server -port``)."""

TIMEOUT_S = 10.0
"""Every API call answers at once on a live Toxiproxy; this bounds a hung one."""

STREAMS = ("downstream", "upstream")
"""Directions a toxic applies to: towards the client (downstream) or towards the server."""


def api_url(configuration: dict[str, Any] | None) -> str:
    """The Toxiproxy API's base URL for this experiment's configuration."""
    config = configuration or {}
    host = str(config.get("toxiproxy_host") or DEFAULT_HOST)
    port = config.get("toxiproxy_port") or _simulator_port(config) or DEFAULT_PORT
    return f"http://{host}:{int(port)}"


def _simulator_port(config: dict[str, Any]) -> int | None:
    """The Toxiproxy port of the running simulator, if one runs with a fault proxy (its state
    directory: the configuration's ``sim_state_dir``, else ``$LIBRECHAT_OPS_STATE``)."""
    try:
        sim = description.load(state_dir(configured=config.get("sim_state_dir")))
    except SimError:
        return None
    return sim.config.toxiproxy_port if sim.config.toxiproxy else None


class Toxiproxy:
    """A client of one Toxiproxy server (``/proxies``, ``/proxies/<p>/toxics``, ``/reset``)."""

    def __init__(self, configuration: dict[str, Any] | None = None) -> None:
        self.url = api_url(configuration)

    def proxies(self) -> dict[str, dict[str, Any]]:
        """Every proxy by name, each with its ``toxics``."""
        answer: dict[str, dict[str, Any]] = self._call("GET", "/proxies")
        return answer

    def proxy(self, name: str) -> dict[str, Any]:
        """One proxy with its toxics; :class:`TargetNotFoundError` names the proxies there are."""
        answer: dict[str, Any] = self._call("GET", f"/proxies/{name}", proxy=name)
        return answer

    def create_proxy(self, name: str, listen: str, upstream: str, enabled: bool) -> dict[str, Any]:
        """Create a proxy ``listen`` → ``upstream`` (port 0 in ``listen`` picks a free one)."""
        body = {"name": name, "listen": listen, "upstream": upstream, "enabled": enabled}
        answer: dict[str, Any] = self._call("POST", "/proxies", body)
        return answer

    def update_proxy(self, name: str, **fields: Any) -> dict[str, Any]:
        """Change a proxy's ``enabled``, ``listen`` or ``upstream``."""
        answer: dict[str, Any] = self._call("POST", f"/proxies/{name}", fields, proxy=name)
        return answer

    def delete_proxy(self, name: str) -> None:
        """Remove a proxy (its listener closes)."""
        self._call("DELETE", f"/proxies/{name}", proxy=name)

    def add_toxic(self, proxy: str, toxic: dict[str, Any]) -> dict[str, Any]:
        """Add ``toxic`` (``name``, ``type``, ``stream``, ``toxicity``, ``attributes``)."""
        if toxic.get("stream", "downstream") not in STREAMS:
            raise ChaosError(
                f"stream {toxic['stream']!r} is not a Toxiproxy stream",
                hint="use 'downstream' (server to client) or 'upstream' (client to server)",
            )
        answer: dict[str, Any] = self._call("POST", f"/proxies/{proxy}/toxics", toxic, proxy=proxy)
        return answer

    def remove_toxic(self, proxy: str, toxic: str) -> None:
        """Remove one toxic by name."""
        self._call("DELETE", f"/proxies/{proxy}/toxics/{toxic}", proxy=proxy, toxic=toxic)

    def reset(self) -> None:
        """Remove every toxic and enable every proxy."""
        self._call("POST", "/reset")

    # ------------------------------------------------------------------ HTTP

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        proxy: str = "",
        toxic: str = "",
    ) -> Any:
        try:
            response = requests.request(method, self.url + path, json=body, timeout=TIMEOUT_S)
        except requests.RequestException as exc:
            raise UnreachableError(
                f"Toxiproxy at {self.url} does not answer ({type(exc).__name__})",
                hint="start the simulator with its fault proxy (SimConfig.toxiproxy, "
                "`localplatform.toxiproxy.ensure` builds it) or set the configuration's "
                "toxiproxy_host / toxiproxy_port",
            ) from None
        if response.ok:
            return response.json() if response.content else None
        raise self._error(response, proxy, toxic)

    def _error(self, response: requests.Response, proxy: str, toxic: str) -> ChaosError:
        try:
            reason = str(response.json().get("error", response.text))
        except ValueError:
            reason = response.text.strip()
        if response.status_code == 404 and toxic and "toxic" in reason:
            return TargetNotFoundError(
                f"proxy {proxy!r} has no toxic {toxic!r}",
                hint=f"its toxics: {', '.join(self._toxic_names(proxy)) or 'none'}",
            )
        if response.status_code == 404 and proxy:
            return TargetNotFoundError(
                f"Toxiproxy at {self.url} has no proxy {proxy!r}",
                hint=f"its proxies: {', '.join(sorted(self.proxies())) or 'none'}",
            )
        if response.status_code == 409:
            return ChaosError(
                f"Toxiproxy refused: {reason}",
                hint="give the toxic another toxic_name, or remove the old one first "
                "(remove_toxic / reset_toxiproxy)",
            )
        return ChaosError(
            f"Toxiproxy refused ({response.status_code}): {reason}",
            hint="check the toxic's type and attributes against Toxiproxy's README",
        )

    def _toxic_names(self, proxy: str) -> list[str]:
        return [str(t["name"]) for t in self.proxy(proxy).get("toxics") or []]

"""Probes of the network faults in place: Toxiproxy's proxies and their toxics.

Steady-state hypotheses use :func:`toxic_count` (tolerance 0: no fault is left over) and
:func:`proxy_enabled`; the journal records :func:`list_proxies` as the state during a fault.
"""

# No ``from __future__ import annotations``: chaostoolkit's discovery reads the real types.

from typing import Any

from .client import Toxiproxy

__all__ = ["list_proxies", "list_toxics", "proxy_enabled", "proxy_exists", "toxic_count"]


def list_proxies(configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every proxy by name: ``listen``, ``upstream``, ``enabled`` and its toxics' names."""
    return {
        name: {
            "listen": proxy["listen"],
            "upstream": proxy["upstream"],
            "enabled": bool(proxy["enabled"]),
            "toxics": [str(t["name"]) for t in proxy.get("toxics") or []],
        }
        for name, proxy in Toxiproxy(configuration).proxies().items()
    }


def proxy_exists(proxy: str, configuration: dict[str, Any] | None = None) -> bool:
    """True when Toxiproxy has a proxy named ``proxy``."""
    return proxy in Toxiproxy(configuration).proxies()


def proxy_enabled(proxy: str, configuration: dict[str, Any] | None = None) -> bool:
    """True while ``proxy`` lets connections through (it was not disabled)."""
    return bool(Toxiproxy(configuration).proxy(proxy)["enabled"])


def list_toxics(proxy: str, configuration: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The toxics on ``proxy``: name, type, stream, toxicity and attributes of each."""
    toxics: list[dict[str, Any]] = Toxiproxy(configuration).proxy(proxy).get("toxics") or []
    return toxics


def toxic_count(proxy: str = "", configuration: dict[str, Any] | None = None) -> int:
    """How many toxics are on ``proxy``, or on every proxy when ``proxy`` is empty (0 in the
    steady state: no network fault is left over)."""
    client = Toxiproxy(configuration)
    proxies = [client.proxy(proxy)] if proxy else list(client.proxies().values())
    return sum(len(p.get("toxics") or []) for p in proxies)

"""Network faults through Toxiproxy: latency, bandwidth, resets, stalls and cut links.

Each action takes the proxy's name (the simulator's are ``llm`` and ``redis``) and drives
Toxiproxy's HTTP API as chaostoolkit-toxiproxy does (same configuration keys ``toxiproxy_host`` and
``toxiproxy_port``). A toxic is named ``<type>_<stream>`` unless ``toxic_name`` says otherwise, so
adding the same fault twice fails clearly. ``remove_all_toxics`` and ``reset_toxiproxy`` are the
rollbacks: they succeed whatever is left over.
"""

# No ``from __future__ import annotations``: chaostoolkit's discovery reads the real types.

from typing import Any

from ..errors import ChaosError
from .client import STREAMS, Toxiproxy

__all__ = [
    "add_latency",
    "add_toxic",
    "create_proxy",
    "cut_connections",
    "delete_proxy",
    "disable_proxy",
    "enable_proxy",
    "limit_bandwidth",
    "remove_all_toxics",
    "remove_toxic",
    "reset_connections",
    "reset_toxiproxy",
    "stall_connections",
]


def add_toxic(
    proxy: str,
    toxic_type: str,
    attributes: dict[str, Any] | None = None,
    stream: str = "downstream",
    toxicity: float = 1.0,
    toxic_name: str = "",
    configuration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Add any Toxiproxy toxic (``latency``, ``bandwidth``, ``reset_peer``, ``timeout``,
    ``slow_close``, ``slicer``, ``limit_data``) with its ``attributes`` to ``proxy``.

    ``stream`` is ``downstream`` (server to client) or ``upstream``; ``toxicity`` is the share of
    connections affected (0..1). Returns the toxic as Toxiproxy created it.
    """
    if stream not in STREAMS:
        raise ChaosError(
            f"stream {stream!r} is not a Toxiproxy stream",
            hint="use 'downstream' (server to client) or 'upstream' (client to server)",
        )
    if not 0.0 <= toxicity <= 1.0:
        raise ChaosError(
            f"toxicity {toxicity} is outside 0..1", hint="1.0 affects every connection"
        )
    toxic = {
        "name": toxic_name or f"{toxic_type}_{stream}",
        "type": toxic_type,
        "stream": stream,
        "toxicity": toxicity,
        "attributes": attributes or {},
    }
    return Toxiproxy(configuration).add_toxic(proxy, toxic)


def add_latency(
    proxy: str,
    latency_ms: int,
    jitter_ms: int = 0,
    stream: str = "downstream",
    toxicity: float = 1.0,
    toxic_name: str = "",
    configuration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Delay the data through ``proxy`` by ``latency_ms`` (± ``jitter_ms``) milliseconds.

    On the ``llm`` proxy this is a slow LLM upstream: every streamed chunk arrives later.
    """
    _at_least("latency_ms", latency_ms, 0)
    _at_least("jitter_ms", jitter_ms, 0)
    attributes = {"latency": latency_ms, "jitter": jitter_ms}
    return add_toxic(
        proxy, "latency", attributes, stream, toxicity, toxic_name, configuration=configuration
    )


def limit_bandwidth(
    proxy: str,
    rate_kbps: int,
    stream: str = "downstream",
    toxicity: float = 1.0,
    toxic_name: str = "",
    configuration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Limit the data through ``proxy`` to ``rate_kbps`` kilobytes per second."""
    _at_least("rate_kbps", rate_kbps, 1)
    return add_toxic(
        proxy,
        "bandwidth",
        {"rate": rate_kbps},
        stream,
        toxicity,
        toxic_name,
        configuration=configuration,
    )


def reset_connections(
    proxy: str,
    after_ms: int = 0,
    stream: str = "downstream",
    toxicity: float = 1.0,
    toxic_name: str = "",
    configuration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Reset (TCP RST) each connection through ``proxy`` ``after_ms`` ms after it sends data.

    While the toxic is on, clients see ``connection reset by peer``: on ``redis`` every command
    fails, on ``llm`` every streamed reply breaks off.
    """
    _at_least("after_ms", after_ms, 0)
    return add_toxic(
        proxy,
        "reset_peer",
        {"timeout": after_ms},
        stream,
        toxicity,
        toxic_name,
        configuration=configuration,
    )


def stall_connections(
    proxy: str,
    close_after_ms: int = 0,
    stream: str = "downstream",
    toxicity: float = 1.0,
    toxic_name: str = "",
    configuration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Let no data through ``proxy`` (a black hole); close each connection after
    ``close_after_ms`` ms, or never when 0. Clients hang until their own timeouts."""
    _at_least("close_after_ms", close_after_ms, 0)
    return add_toxic(
        proxy,
        "timeout",
        {"timeout": close_after_ms},
        stream,
        toxicity,
        toxic_name,
        configuration=configuration,
    )


def remove_toxic(
    proxy: str, toxic_name: str, configuration: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Remove the toxic ``toxic_name`` from ``proxy``; fails when there is none by that name."""
    client = Toxiproxy(configuration)
    client.remove_toxic(proxy, toxic_name)
    return {"proxy": proxy, "removed": [toxic_name]}


def remove_all_toxics(proxy: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Remove every toxic from ``proxy`` (a rollback: nothing to remove is fine)."""
    client = Toxiproxy(configuration)
    names = [str(t["name"]) for t in client.proxy(proxy).get("toxics") or []]
    for name in names:
        client.remove_toxic(proxy, name)
    return {"proxy": proxy, "removed": names}


def disable_proxy(proxy: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Cut the link: ``proxy`` closes its connections and refuses new ones until enabled."""
    return Toxiproxy(configuration).update_proxy(proxy, enabled=False)


def enable_proxy(proxy: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Restore a link cut by :func:`disable_proxy`."""
    return Toxiproxy(configuration).update_proxy(proxy, enabled=True)


def cut_connections(proxy: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Drop the connections open through ``proxy`` now, keeping the link up: clients must
    reconnect (Toxiproxy closes them when the proxy is disabled and enabled again)."""
    client = Toxiproxy(configuration)
    client.update_proxy(proxy, enabled=False)
    return client.update_proxy(proxy, enabled=True)


def reset_toxiproxy(configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Remove every toxic from every proxy and enable every proxy (the catch-all rollback)."""
    client = Toxiproxy(configuration)
    client.reset()
    return {"url": client.url, "proxies": sorted(client.proxies())}


def create_proxy(
    proxy: str,
    upstream: str,
    listen: str = "127.0.0.1:0",
    enabled: bool = True,
    configuration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Create ``proxy`` listening on ``listen`` (port 0 picks one) in front of ``upstream``
    (``host:port``). Returns the proxy, whose ``listen`` is the address to dial."""
    return Toxiproxy(configuration).create_proxy(proxy, listen, upstream, enabled)


def delete_proxy(proxy: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Delete ``proxy``; its listener closes."""
    Toxiproxy(configuration).delete_proxy(proxy)
    return {"proxy": proxy, "deleted": True}


def _at_least(name: str, value: int, minimum: int) -> None:
    if value < minimum:
        raise ChaosError(f"{name} is {value}", hint=f"give {name} >= {minimum}")

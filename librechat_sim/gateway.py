"""The AI gateway in the simulator: LiteLLM's proxy between the replicas and two mock LLMs.

With ``SimConfig.gateway.program`` set (the ``litellm`` executable), the cluster starts a second
mock LLM (``llm-fallback``) and the proxy (``gateway``) with the LiteLLM configuration the command
line built from the production one. That configuration names the local upstreams by placeholder
base URLs, ``http://<upstream>.sim.invalid/v1`` (:func:`placeholder`; ``.invalid`` never resolves,
RFC 2606), which :func:`resolve` replaces with the upstreams' loopback addresses once their ports
are known: ``llm`` is the primary mock, reached through Toxiproxy's ``llm`` proxy when the fault
proxy runs, ``llm-fallback`` the fallback's. The replicas then stream from the gateway's
``/v1/chat/completions`` with the master key as their bearer token; LiteLLM passes the mock's own
body field ``sim_skip_tokens`` on to the upstream (an OpenAI-compatible provider gets every
non-OpenAI parameter in ``extra_body``: ``add_provider_specific_params_to_optional_params`` in
litellm's ``utils.py``).

The proxy runs offline: ``LITELLM_LOCAL_MODEL_COST_MAP=True`` keeps it from fetching its model cost
map from GitHub at start (``litellm_core_utils/get_model_cost_map.py``), ``DISABLE_ADMIN_UI``
skips the admin UI, and no database is configured. Its API keys are the environment variables the
configuration names (``os.environ/NAME``), given stand-in values here.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .config import SimConfig
from .errors import ProgramMissingError, SimError
from .processes import LOOPBACK

PRIMARY = "llm"
"""The primary deployment's upstream: the first mock LLM (behind Toxiproxy's ``llm`` proxy)."""

FALLBACK = "llm-fallback"
"""The fallback deployment's upstream: the second mock LLM."""

UPSTREAMS = (PRIMARY, FALLBACK)
"""Every local upstream a gateway configuration may name."""

PLACEHOLDER_DOMAIN = ".sim.invalid"
"""Host suffix of a placeholder base URL."""

ENVIRONMENT = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "DISABLE_ADMIN_UI": "True"}
"""The proxy's own settings: no fetch of the remote cost map, no admin UI."""

LIVENESS = "/health/liveliness"
"""LiteLLM's liveness endpoint (its spelling), which needs no key."""

START_TIMEOUT_S = 90.0
"""Longest the proxy may take to answer its liveness check (about 8 s warm on two cores, more
on the first start after an install, which compiles its modules)."""


def placeholder(upstream: str) -> str:
    """The base URL that stands for local ``upstream`` in a configuration."""
    return f"http://{upstream}{PLACEHOLDER_DOMAIN}/v1"


def _upstream_of(api_base: str) -> str | None:
    host = urlsplit(api_base).hostname or ""
    return host.removesuffix(PLACEHOLDER_DOMAIN) if host.endswith(PLACEHOLDER_DOMAIN) else None


def resolve(config: dict[str, Any], ports: dict[str, int]) -> dict[str, Any]:
    """``config`` with each placeholder base URL replaced by ``http://127.0.0.1:<port>/v1``; a
    deployment naming anything but a local upstream is a :class:`SimError` (the simulator never
    reaches a real provider)."""
    resolved = copy.deepcopy(config)
    for entry in resolved.get("model_list") or []:
        params = entry.get("litellm_params") or {}
        upstream = _upstream_of(str(params.get("api_base", "")))
        if upstream not in ports:
            raise SimError(
                f"the gateway deployment {entry.get('model_name')!r} points at "
                f"{params.get('api_base')!r}, not at one of the simulator's mock LLMs",
                hint="build the configuration with gateway.placeholder(upstream) as each "
                f"deployment's api_base, upstream one of {', '.join(UPSTREAMS)}",
            )
        params["api_base"] = f"http://{LOOPBACK}:{ports[upstream]}/v1"
    return resolved


def _env_names(value: Any) -> set[str]:
    """Every ``os.environ/NAME`` the configuration reads."""
    if isinstance(value, dict):
        return set().union(*(_env_names(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_env_names(v) for v in value)) if value else set()
    if isinstance(value, str) and value.startswith("os.environ/"):
        return {value.removeprefix("os.environ/")}
    return set()


def environment(config: SimConfig) -> dict[str, str]:
    """The proxy's environment: its own settings, the master key where the configuration reads it,
    a stand-in for every other key it reads."""
    gateway = config.gateway
    master = str((gateway.config.get("general_settings") or {}).get("master_key", ""))
    master_env = master.removeprefix("os.environ/") if master.startswith("os.environ/") else ""
    env = {name: f"sk-sim-{name.lower()}" for name in sorted(_env_names(gateway.config))}
    if master_env:
        env[master_env] = gateway.master_key
    return env | ENVIRONMENT


def check(config: SimConfig) -> None:
    """Refuse a gateway that cannot start: no executable, no configuration, no model to ask for."""
    gateway = config.gateway
    if not (os.access(gateway.program, os.X_OK) and Path(gateway.program).is_file()):
        raise ProgramMissingError(
            f"LiteLLM's proxy is not at {gateway.program!r}",
            hint="install it with `librechat-ops cluster build` (`localplatform.litellm.ensure` "
            "returns its path) and set SimConfig.gateway.program to that path",
        )
    groups = {e.get("model_name") for e in gateway.config.get("model_list") or []}
    if gateway.model not in groups:
        raise SimError(
            f"the gateway configuration has no model group {gateway.model!r} "
            f"(it has {', '.join(sorted(map(str, groups))) or 'none'})",
            hint="set SimConfig.gateway.model to the model group the replicas should ask for",
        )


def write_config(config: SimConfig, ports: dict[str, int], path: Path) -> None:
    """Write the resolved configuration where the proxy reads it (JSON is YAML)."""
    path.write_text(json.dumps(resolve(config.gateway.config, ports), indent=2))


def warm_up(config: SimConfig) -> None:
    """One streamed reply through the proxy before any traffic, as a readiness check would: its
    first request pays for what LiteLLM loads on first use (about 0.2 s more than the next ones,
    measured), which would otherwise land in the first user's time to first token."""
    gateway = config.gateway
    body = {"model": gateway.model, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    request = urllib.request.Request(
        f"http://{LOOPBACK}:{gateway.port}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {gateway.master_key}",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise SimError(
            f"the AI gateway on 127.0.0.1:{gateway.port} failed its first reply: {exc}",
            hint="read its log (logs/gateway.log under the simulator's state directory)",
        ) from None


def argv(config: SimConfig, config_file: Path) -> list[str]:
    """The proxy's command line on loopback at ``config.gateway.port``, its environment set with
    ``env`` (which execs it: the pid stays the proxy's, and a rollback that starts it again from
    this command gets the same environment)."""
    env = shutil.which("env") or "/usr/bin/env"
    settings = [f"{name}={value}" for name, value in environment(config).items()]
    server = [config.gateway.program, "--config", str(config_file)]
    return [env, *settings, *server, "--host", LOOPBACK, "--port", str(config.gateway.port)]

"""The simulator's AI gateway, built from the production one: the bridge between components and
librechat_sim.

The production gateway's settings come from the committed ``stacks/Pulumi.production.yaml``
(``librechat:gateway``, read by the same function the Pulumi program uses); the simulator runs
LiteLLM's proxy with exactly that configuration, the two deployments' base URLs replaced by
placeholders for its two mock LLMs (``librechat_sim.gateway``). The simulator itself never
imports components: the configuration is handed to it as a dict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.errors import ComponentsError
from components.gateway import CONFIG_KEY, GatewaySettings, litellm_config, settings_from_config
from components.stackfile import default_program_dir, load_stack
from librechat_sim import gateway
from librechat_sim.config import GatewayConfig
from localplatform import litellm
from localplatform.errors import BuildError

from .console import err_console, fail
from .settings import Settings

PRODUCTION = "production"
"""The stack whose gateway the simulator runs."""


def production_settings(program_dir: Path | None = None) -> GatewaySettings:
    """The gateway settings of the committed production stack file."""
    stack = load_stack(program_dir or default_program_dir(), PRODUCTION)
    raw = stack.config.get(CONFIG_KEY)
    return settings_from_config(None if raw is None else json.loads(raw))


def local_config(settings: GatewaySettings) -> dict[str, Any]:
    """LiteLLM's configuration for ``settings`` with the primary and fallback deployments pointed
    at the simulator's two mock LLMs (placeholders it resolves once their ports are known)."""
    local = settings.with_upstreams(
        gateway.placeholder(gateway.PRIMARY), gateway.placeholder(gateway.FALLBACK)
    )
    return litellm_config(local)


def sim_gateway(
    cache_dir: Path, *, port: int = 4000, fallback_llm_port: int = 3096
) -> GatewayConfig:
    """The simulator's gateway: LiteLLM (installed first when missing; raises
    ``localplatform.errors.BuildError``) with the production configuration."""
    settings = production_settings()
    return GatewayConfig(
        program=str(litellm.ensure(cache_dir)),
        config=local_config(settings),
        model=settings.model_name,
        port=port,
        fallback_llm_port=fallback_llm_port,
    )


def for_command(*, port: int = 4000, fallback_llm_port: int = 3096) -> GatewayConfig:
    """:func:`sim_gateway` for a command: installs LiteLLM with a progress line when missing; a
    failed install or a bad production gateway setting ends the command with its fix."""
    cache_dir = Settings.from_env().cache_dir
    if litellm.executable(cache_dir) is None:
        err_console.print(
            f"installing LiteLLM {litellm.VERSION} (the AI gateway) into its own virtual "
            "environment from PyPI (about a minute, once)"
        )
    try:
        return sim_gateway(cache_dir, port=port, fallback_llm_port=fallback_llm_port)
    except BuildError as exc:
        fail(exc.message, exc.hint, details=exc.log_tail and f"last lines:\n{exc.log_tail}")
    except ComponentsError as exc:
        fail(str(exc), "fix librechat:gateway in stacks/Pulumi.production.yaml")

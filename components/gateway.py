"""The AI gateway (inventory service ``ai-gateway``): LiteLLM's proxy and its ``config.yaml``.

What belongs here: the gateway's settings as frozen dataclasses, reading them from the stack's
``librechat:gateway`` object (:func:`settings_from_config`, used by ``stacks/config.py`` and by the
command line, which builds the simulator's gateway from the committed production stack file),
the pure function that renders LiteLLM's configuration (:func:`litellm_config`) and the ConfigMap
that carries it (:func:`config_map`). One model group is what LibreChat's custom endpoint asks
for; a primary deployment serves it and a fallback deployment at a second provider takes over
when the primary fails or is slower than its stream timeout. Both speak OpenAI's chat
completions API (LiteLLM's ``openai/`` provider), as the simulator's mock LLMs do, so the local
gateway runs the production configuration with only the upstream addresses replaced.

Key names follow LiteLLM's config reference (docs.litellm.ai/docs/proxy/config_settings): per
deployment ``timeout`` (the whole call) and ``stream_timeout`` (the wait for a stream's first
chunk, docs.litellm.ai/docs/proxy/timeout), ``router_settings`` for routing, retries, fallbacks
and cooldowns.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from k8s_operator.inventory import GATEWAY_CONFIG_MAP
from slos.sli import LITELLM_BUCKETS_S

from .errors import ConfigError

CONFIG_KEY = "librechat:gateway"
"""The stack config key of the gateway's settings (optional: the defaults below otherwise)."""

CONFIG_MAP_NAME = GATEWAY_CONFIG_MAP
"""The ConfigMap holding ``config.yaml`` next to the platform's ``ai-gateway`` service (the
operator mounts it into the LiteLLM pods, image row ``litellm`` of :mod:`k8s_operator.images`)."""

CONFIG_FILE = "config.yaml"
"""Its key: mounted as a file, passed to the proxy as ``--config``."""


@dataclass(frozen=True)
class Deployment:
    """One upstream that serves the model group."""

    id: str
    """LiteLLM's deployment id (``model_info.id``): what its response header
    ``x-litellm-model-id`` and its metrics' ``model_id`` name."""
    model: str
    """LiteLLM's model string, provider prefix first (``openai/gpt-4o-mini``)."""
    api_base: str
    """The provider's OpenAI-compatible base URL (``https://api.openai.com/v1``)."""
    api_key_env: str
    """The environment variable holding its API key (from the gateway's Secret);
    the config says ``os.environ/<name>``, never the key."""
    stream_timeout_s: float
    """Longest wait for a streamed reply's first chunk before LiteLLM gives up on this
    deployment (and falls back)."""


@dataclass(frozen=True)
class GatewaySettings:
    """Routing, retries, fallbacks and timeouts of the gateway."""

    model_name: str = "gpt-4o-mini"
    """The model group LibreChat's custom endpoint asks for."""
    primary: Deployment = Deployment(
        "primary", "openai/gpt-4o-mini", "https://api.openai.com/v1", "OPENAI_API_KEY", 2.0
    )
    """Serves the model group. Its stream timeout, 2 s, lies above GPT-4o-mini's P99.9 time to
    first token (1.74 s for the lognormal of ``librechat_sim.costs.TTFT_MS``: P50 645 ms, P95
    1,094 ms, measured over 7 days), so a healthy primary is cut short about once in 5,000
    requests; a slower one falls back. Every request then waits the 2 s out (LiteLLM does not cool
    a deployment down for this timeout, see ``allowed_fails``), so a slow primary costs about 2 s
    of time to first token for as long as it lasts. A shorter cut-off would keep the 1,500 ms P99
    objective (DESIGN.md §4) through a slow primary, at the price of falling back on a healthy
    one's ordinary tail."""
    fallback: Deployment = Deployment(
        "fallback",
        "openai/gpt-4o-mini",
        "https://librechat-fallback.openai.azure.com/openai/v1",
        "AZURE_OPENAI_API_KEY",
        30.0,
    )
    """A second provider (Azure OpenAI's OpenAI-compatible v1 API, learn.microsoft.com "Azure
    OpenAI in Microsoft Foundry Models v1 API"): the last resort, so it may take its time."""
    routing_strategy: str = "simple-shuffle"
    """LiteLLM's routing strategy within a model group (its recommended default)."""
    num_retries: int = 2
    """Retries of a failed call within the model group before falling back (rate limits,
    server errors...)."""
    timeout_retries: int = 0
    """Retries of a deployment that timed out (LiteLLM's ``retry_policy.TimeoutErrorRetries``):
    none, so a primary slower than its stream timeout goes to the fallback at once. Each retry
    costs another stream timeout plus LiteLLM's back-off: measured through the simulator, the
    fallback's first token came after 10.3 s with 2 retries, 2.1 s with none."""
    timeout_s: float = 60.0
    """Longest a whole call (a full streamed reply) may take on one deployment."""
    allowed_fails: int = 3
    """Failures per minute a deployment may have before it is cooled down. LiteLLM 1.108.7 counts
    errors with a status (429, 5xx, 401...), not a stream's first-chunk timeout: that exception
    carries no status code, and a failure without one never cools a deployment down
    (``Router.deployment_callback_on_failure`` and ``cooldown_handlers._is_cooldown_required``
    in litellm; BerriAI/litellm#7779), not even with a ``TimeoutErrorAllowedFails`` policy on the
    deployment (tried through the simulator)."""
    cooldown_s: float = 30.0
    """How long a cooled-down deployment gets no traffic."""
    master_key_env: str = "LITELLM_MASTER_KEY"
    """The environment variable of the proxy's master key (what LibreChat sends as its key)."""
    callbacks: tuple[str, ...] = field(default=("prometheus",))
    """LiteLLM callbacks: ``prometheus`` serves ``/metrics`` (requests, failures, fallbacks,
    time to first token per deployment), which Prometheus scrapes and the autoscaler reads."""

    @property
    def fallback_group(self) -> str:
        """The model group of the fallback deployment."""
        return f"{self.model_name}-fallback"

    def with_upstreams(self, primary: str, fallback: str) -> GatewaySettings:
        """The same gateway with the deployments' base URLs replaced (the simulator's mocks)."""
        return replace(
            self,
            primary=replace(self.primary, api_base=primary),
            fallback=replace(self.fallback, api_base=fallback),
        )


def _deployment(group: str, deployment: Deployment, timeout_s: float) -> dict[str, Any]:
    return {
        "model_name": group,
        "litellm_params": {
            "model": deployment.model,
            "api_base": deployment.api_base,
            "api_key": f"os.environ/{deployment.api_key_env}",
            "timeout": timeout_s,
            "stream_timeout": deployment.stream_timeout_s,
        },
        "model_info": {"id": deployment.id},
    }


def litellm_config(settings: GatewaySettings) -> dict[str, Any]:
    """LiteLLM's ``config.yaml`` for ``settings``, as a dict."""
    return {
        "model_list": [
            _deployment(settings.model_name, settings.primary, settings.timeout_s),
            _deployment(settings.fallback_group, settings.fallback, settings.timeout_s),
        ],
        "router_settings": {
            "routing_strategy": settings.routing_strategy,
            "num_retries": settings.num_retries,
            "retry_policy": {"TimeoutErrorRetries": settings.timeout_retries},
            "timeout": settings.timeout_s,
            "fallbacks": [{settings.model_name: [settings.fallback_group]}],
            "allowed_fails": settings.allowed_fails,
            "cooldown_time": settings.cooldown_s,
        },
        "litellm_settings": {
            # First, so the prometheus callback is created with them (``litellm.__init__``'s
            # ``prometheus_latency_buckets``): the SLO rules count the first tokens under the
            # ai_inference threshold from the bucket at it (slos.sli).
            "prometheus_latency_buckets": list(LITELLM_BUCKETS_S),
            "callbacks": list(settings.callbacks),
            "request_timeout": settings.timeout_s,
        },
        "general_settings": {"master_key": f"os.environ/{settings.master_key_env}"},
    }


def config_map(
    settings: GatewaySettings, *, namespace: str, labels: dict[str, str]
) -> dict[str, Any]:
    """The ConfigMap with LiteLLM's ``config.yaml`` for the ``ai-gateway`` service."""
    text = yaml.safe_dump(litellm_config(settings), sort_keys=False)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": CONFIG_MAP_NAME,
            "namespace": namespace,
            "labels": {**labels, "app.kubernetes.io/component": "ai-gateway"},
        },
        "data": {CONFIG_FILE: text},
    }


def _number(obj: dict[str, Any], key: str, name: str, default: float, minimum: float) -> float:
    value = obj.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{key}.{name}", f"must be a number, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{key}.{name}", f"must be at least {minimum:g}, got {value!r}")
    return float(value)


def _text(obj: dict[str, Any], key: str, name: str, default: str) -> str:
    value = obj.get(name, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}.{name}", f"must be a non-empty string, got {value!r}")
    return value


def _deployment_from(obj: Any, key: str, default: Deployment) -> Deployment:
    if obj is None:
        return default
    if not isinstance(obj, dict):
        raise ConfigError(key, f"must be an object, got {obj!r}")
    api_base = _text(obj, key, "apiBase", default.api_base)
    if not api_base.startswith(("https://", "http://")):
        raise ConfigError(f"{key}.apiBase", f"must be an http(s) URL, got {api_base!r}")
    return Deployment(
        id=default.id,
        model=_text(obj, key, "model", default.model),
        api_base=api_base,
        api_key_env=_text(obj, key, "apiKeyEnv", default.api_key_env),
        stream_timeout_s=_number(obj, key, "streamTimeoutS", default.stream_timeout_s, 0.1),
    )


def settings_from_config(obj: Any, key: str = CONFIG_KEY) -> GatewaySettings:
    """The gateway of a stack's ``librechat:gateway`` object (``None``: the defaults); a bad
    value is a :class:`ConfigError` naming its key."""
    base = GatewaySettings()
    if obj is None:
        return base
    if not isinstance(obj, dict):
        raise ConfigError(key, f"must be an object, got {obj!r}")
    known = {
        "modelName", "primary", "fallback", "routingStrategy", "numRetries", "timeoutRetries",
        "timeoutS", "allowedFails", "cooldownS",
    }  # fmt: skip
    unknown = sorted(set(obj) - known)
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", f"is not a setting; known: {sorted(known)}")
    settings = GatewaySettings(
        model_name=_text(obj, key, "modelName", base.model_name),
        primary=_deployment_from(obj.get("primary"), f"{key}.primary", base.primary),
        fallback=_deployment_from(obj.get("fallback"), f"{key}.fallback", base.fallback),
        routing_strategy=_text(obj, key, "routingStrategy", base.routing_strategy),
        num_retries=int(_number(obj, key, "numRetries", base.num_retries, 0)),
        timeout_retries=int(_number(obj, key, "timeoutRetries", base.timeout_retries, 0)),
        timeout_s=_number(obj, key, "timeoutS", base.timeout_s, 1),
        allowed_fails=int(_number(obj, key, "allowedFails", base.allowed_fails, 1)),
        cooldown_s=_number(obj, key, "cooldownS", base.cooldown_s, 0),
    )
    for name, deployment in (("primary", settings.primary), ("fallback", settings.fallback)):
        if deployment.stream_timeout_s > settings.timeout_s:
            raise ConfigError(
                f"{key}.{name}.streamTimeoutS",
                f"{deployment.stream_timeout_s:g}s exceeds timeoutS ({settings.timeout_s:g}s)",
            )
    return settings

"""LibreChat's configuration file, ``librechat.yaml``, as the program generates it.

What belongs here: the pure function that writes the file for one region (:func:`librechat_yaml`)
and the ConfigMap that carries it (:func:`config_map`), which the region's ``LibreChat`` resource
names in ``configRef`` (the operator mounts it into every pool of LibreChat's API and points
``CONFIG_PATH`` at it). What it says, as LibreChat documents it (librechat.ai/docs/configuration):

- the models come through the AI gateway, a custom endpoint (``endpoints.custom``) whose base URL
  is the platform's ``ai-gateway`` Service (LiteLLM's OpenAI-compatible ``/v1``) and whose key is
  the gateway's master key, read from LibreChat's environment (``${LITELLM_MASTER_KEY}``);
- files go to S3 in the clouds (``fileStrategy: s3``; the bucket and region are environment
  entries, the credentials IRSA's) and to the local folder on the laptop;
- logins through OpenID (Keycloak) are offered in the clouds.

The file must be valid for the LibreChat release deployed: :data:`CONFIG_VERSION` is that
release's ``Constants.CONFIG_VERSION`` and a test checks the file with LibreChat's own schema
(``configSchema`` of ``librechat-data-provider``, run with Node).
"""

from __future__ import annotations

from typing import Any

import yaml

from k8s_operator.inventory import BY_NAME

from .gateway import GatewaySettings

CONFIG_VERSION = "1.3.14"
"""``Constants.CONFIG_VERSION`` of librechat-data-provider 0.8.521, which LibreChat v0.8.8-rc1
ships: the configuration format this file follows."""

CONFIG_MAP_NAME = "librechat-config"
"""The ConfigMap with ``librechat.yaml`` beside the ``LibreChat`` resource."""

CONFIG_FILE = "librechat.yaml"
"""Its key (LibreChat's file name)."""

GATEWAY_ENDPOINT = "AI Gateway"
"""The custom endpoint's name, as users see it in LibreChat's model menu."""


def librechat_yaml(gateway: GatewaySettings, *, platform: str, cloud: bool) -> dict[str, Any]:
    """``librechat.yaml`` for the ``LibreChat`` resource named ``platform``; ``cloud``: files on
    S3 and OpenID logins (the laptop keeps files locally and has no identity provider)."""
    port = BY_NAME["ai-gateway"].port
    config: dict[str, Any] = {
        "version": CONFIG_VERSION,
        "cache": True,
        "fileStrategy": "s3" if cloud else "local",
        "endpoints": {
            "custom": [
                {
                    "name": GATEWAY_ENDPOINT,
                    "apiKey": f"${{{gateway.master_key_env}}}",
                    "baseURL": f"http://{platform}-ai-gateway:{port}/v1",
                    "models": {"default": [gateway.model_name], "fetch": False},
                    "titleConvo": True,
                    "titleModel": gateway.model_name,
                    "modelDisplayLabel": GATEWAY_ENDPOINT,
                }
            ]
        },
    }
    if cloud:
        config["registration"] = {"socialLogins": ["openid"]}
    return config


def config_map(
    gateway: GatewaySettings,
    *,
    platform: str,
    cloud: bool,
    namespace: str,
    labels: dict[str, str],
) -> dict[str, Any]:
    """The ConfigMap holding :func:`librechat_yaml`."""
    text = yaml.safe_dump(librechat_yaml(gateway, platform=platform, cloud=cloud), sort_keys=False)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": CONFIG_MAP_NAME,
            "namespace": namespace,
            "labels": {**labels, "app.kubernetes.io/component": "librechat"},
        },
        "data": {CONFIG_FILE: text},
    }

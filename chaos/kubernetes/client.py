"""The one module that talks to the Kubernetes API: connection and error translation.

What belongs here: building an API client from the experiment's configuration, and turning the
client's exceptions into :mod:`chaos.errors` with a hint. Faults and probes live in ``actions.py``
and ``probes.py``; they never build a client or catch ``ApiException`` themselves.

The client comes from, in order: the configuration key ``kubeconfig_path``; the ``KUBECONFIG``
environment variable; the in-cluster service account when running in a pod (the operator's
``ChaosSchedule`` CronJob); ``~/.kube/config``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException

from chaos.errors import ChaosError, TargetNotFoundError, UnreachableError

Configuration = Mapping[str, Any] | None

RBAC_HINT = (
    "the identity running the experiment lacks this right: a ChaosSchedule's ServiceAccount has "
    "its experiment's `librechat-chaos-<experiment>` ClusterRole in its own namespace only, "
    "holding what that experiment needs (nodes are cluster-wide)"
)
SELECTOR_HINT = "a label selector looks like `app=web,tier!=db` (kubectl's syntax)"


def api_client(configuration: Configuration = None) -> Any:
    """A ``kubernetes.client.ApiClient`` with its own configuration (the global default is never
    touched, so two experiments in one process can talk to two clusters)."""
    cfg = client.Configuration()
    path = (configuration or {}).get("kubeconfig_path") or os.environ.get("KUBECONFIG", "")
    home = Path("~/.kube/config").expanduser()
    try:
        if path:
            if not Path(path).is_file():
                raise UnreachableError(
                    f"kubeconfig {path} does not exist",
                    hint="set the configuration key `kubeconfig_path` or KUBECONFIG to a file "
                    "(`librechat-ops cluster kubeconfig` prints the local platform's)",
                )
            config.load_kube_config(config_file=path, client_configuration=cfg)
        elif os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config(client_configuration=cfg)
        elif home.is_file():
            config.load_kube_config(config_file=str(home), client_configuration=cfg)
        else:
            raise UnreachableError(
                "no Kubernetes configuration: no `kubeconfig_path`, KUBECONFIG, in-cluster "
                "service account or ~/.kube/config",
                hint="set KUBECONFIG (`librechat-ops cluster kubeconfig` prints the local one)",
            )
    except ConfigException as exc:
        raise UnreachableError(
            f"invalid Kubernetes configuration: {exc}", hint="check the kubeconfig file"
        ) from exc
    cfg.retries = 1
    return client.ApiClient(cfg)


def core(configuration: Configuration = None) -> Any:
    """The core/v1 API (pods, nodes, config maps, namespaces)."""
    return client.CoreV1Api(api_client(configuration))


def apps(configuration: Configuration = None) -> Any:
    """The apps/v1 API (deployments and their scale subresource)."""
    return client.AppsV1Api(api_client(configuration))


def networking(configuration: Configuration = None) -> Any:
    """The networking.k8s.io/v1 API (network policies)."""
    return client.NetworkingV1Api(api_client(configuration))


def to_dict(api: Any, obj: Any) -> dict[str, Any]:
    """A client model as the API's JSON (camelCase keys), e.g. to save a manifest."""
    data: dict[str, Any] = api.api_client.sanitize_for_serialization(obj)
    return data


def _reason(exc: ApiException) -> str:
    try:
        message = json.loads(exc.body or "{}").get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message or exc.reason or exc.status)


@contextmanager
def translated(what: str, *, missing_hint: str = "") -> Iterator[None]:
    """Run API calls for ``what`` (e.g. "deployment web in namespace shop"): a 404 becomes
    :class:`TargetNotFoundError`, a 403 or a bad request a :class:`ChaosError` with a hint, a
    connection failure :class:`UnreachableError`."""
    try:
        yield
    except ApiException as exc:
        reason = _reason(exc)
        if exc.status == 404:
            raise TargetNotFoundError(
                f"{what}: not found ({reason})",
                hint=missing_hint or "check the name and the namespace",
            ) from exc
        if exc.status in (401, 403):
            raise ChaosError(f"{what}: forbidden ({reason})", hint=RBAC_HINT) from exc
        if exc.status == 400 and "selector" in reason.lower():
            raise ChaosError(
                f"{what}: invalid label selector ({reason})", hint=SELECTOR_HINT
            ) from exc
        raise ChaosError(f"{what}: the API server refused ({exc.status}: {reason})") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise UnreachableError(
            f"{what}: the Kubernetes API does not answer ({exc})",
            hint="is the cluster up? (`librechat-ops cluster status` for the local platform)",
        ) from exc

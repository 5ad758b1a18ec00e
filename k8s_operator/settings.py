"""The operator's configuration, read from the environment in this one place."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

LIVENESS_PORT = 8081
"""kopf's liveness endpoint when the toolkit runs the operator on this machine."""
METRICS_PORT = 8082
"""The operator's Prometheus metrics, by default."""
PROJECT_IMAGE = "librechat-ops"
"""The repository of this project's image (the operator, the toolkit and chaostoolkit; see the
Dockerfile): by default the only image ChaosSchedule runs may use."""


@dataclass(frozen=True)
class OperatorSettings:
    """How the operator runs."""

    field_manager: str = "librechat-operator"
    """The server-side-apply field manager that owns the children's fields."""
    prometheus_url: str = "http://127.0.0.1:9090"
    """Where PredictiveAutoscalers and ChaosSchedule guards query metrics
    (``LIBRECHAT_PROMETHEUS_URL``)."""
    slo_env: str = "laptop"
    """The SLO environment (``slos/slos.yaml``) whose generated burn-rate rules the ChaosSchedule
    guards read: their series carry ``slo_env`` (``LIBRECHAT_SLO_ENV``)."""
    guard_timeout: float = 5.0
    """Seconds a ChaosSchedule guard waits for each answer from Prometheus; no answer suspends
    the runs (``LIBRECHAT_OPERATOR_GUARD_TIMEOUT``)."""
    metrics_port: int = METRICS_PORT
    """The operator's own Prometheus metrics on this port, 0 to disable
    (``LIBRECHAT_OPERATOR_METRICS_PORT``)."""
    metrics_host: str = "127.0.0.1"
    """Address of the metrics endpoint; ``0.0.0.0`` in a pod
    (``LIBRECHAT_OPERATOR_METRICS_HOST``)."""
    status_delay: float = 2.0
    """Seconds a service's roll-out progress waits before it is written, so later progress joins
    the same write; condition changes are written at once (``LIBRECHAT_OPERATOR_STATUS_DELAY``)."""
    chaos_images: tuple[str, ...] = (PROJECT_IMAGE,)
    """Images ChaosSchedule runs may use: repositories (any tag or digest) or whole references,
    comma-separated in ``LIBRECHAT_OPERATOR_CHAOS_IMAGES``; a schedule with another image is
    rejected (status and an Event), never run."""
    leader_election: bool = False
    """Run only while holding the Lease ``librechat-operator`` (``python -m k8s_operator``, as
    the Deployment's replicas do; ``LIBRECHAT_OPERATOR_LEADER_ELECTION=true``)."""
    lease_namespace: str = "librechat-system"
    """Where that Lease lives (``LIBRECHAT_OPERATOR_LEASE_NAMESPACE``)."""
    identity: str = ""
    """This replica's name in the Lease: ``POD_NAME`` (the Deployment sets it from the pod's
    name), else host name and process id."""
    crash_at_write: str = ""
    """Fault injection for tests: ``N,before|after,LOG`` SIGKILLs the operator at its N-th write
    (``LIBRECHAT_OPERATOR_CRASH_AT_WRITE``, see :class:`k8s_operator.kube.CrashPoint`)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OperatorSettings:
        env = os.environ if env is None else env
        default = cls()
        return cls(
            prometheus_url=env.get("LIBRECHAT_PROMETHEUS_URL", default.prometheus_url),
            slo_env=env.get("LIBRECHAT_SLO_ENV", default.slo_env),
            guard_timeout=float(env.get("LIBRECHAT_OPERATOR_GUARD_TIMEOUT", default.guard_timeout)),
            metrics_port=int(env.get("LIBRECHAT_OPERATOR_METRICS_PORT", default.metrics_port)),
            metrics_host=env.get("LIBRECHAT_OPERATOR_METRICS_HOST", default.metrics_host),
            status_delay=float(env.get("LIBRECHAT_OPERATOR_STATUS_DELAY", default.status_delay)),
            chaos_images=_images(env.get("LIBRECHAT_OPERATOR_CHAOS_IMAGES"), default.chaos_images),
            leader_election=env.get("LIBRECHAT_OPERATOR_LEADER_ELECTION", "").lower()
            in ("1", "true", "yes"),
            lease_namespace=env.get("LIBRECHAT_OPERATOR_LEASE_NAMESPACE", default.lease_namespace),
            identity=env.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}",
            crash_at_write=env.get("LIBRECHAT_OPERATOR_CRASH_AT_WRITE", ""),
        )


def _images(raw: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated allow-list; unset or empty: ``default``."""
    entries = tuple(e.strip() for e in (raw or "").split(",") if e.strip())
    return entries or default

"""The chaos extension's one error hierarchy.

:class:`ChaosError` derives from chaostoolkit's ``ActivityFailed``, so an action or probe that
raises it fails its activity in the journal with the message (no traceback): chaostoolkit's own
boundary. ``hint`` says what to do about it.
"""

from __future__ import annotations

from chaoslib.exceptions import ActivityFailed


class ChaosError(ActivityFailed):  # type: ignore[misc]
    """A fault could not be injected or a probe could not measure: the message says why."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(f"{message} ({hint})" if hint else message)
        self.message = message
        self.hint = hint


class TargetNotFoundError(ChaosError):
    """The thing to break (a process, a proxy, a deployment, a node) does not exist."""


class UnreachableError(ChaosError):
    """The system that carries the fault or the measurement (Prometheus, Toxiproxy, the Kubernetes
    API, the simulator's state) does not answer."""


class NoDataError(ChaosError):
    """A measurement saw nothing to judge (no traffic in a window, no Locust requests yet): an
    SLO that cannot be observed is not taken to hold."""

"""The simulator's one error hierarchy: every failure a user can fix carries a ``hint``.

Callers in other areas translate :class:`SimError` at their own boundary (the command line prints
message and hint; the chaos extension turns it into a failed activity).
"""

from __future__ import annotations


class SimError(Exception):
    """The simulator could not start, stop or be found, or its state is unreadable."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class PortConflictError(SimError):
    """A loopback port the simulator needs is already taken, or out of range."""


class ProgramMissingError(SimError):
    """A program the simulator needs (redis-server, haproxy, toxiproxy-server) is not installed."""


class NotRunningError(SimError):
    """No simulator is recorded under the state directory, or its record is damaged."""


class ProcessNotFoundError(SimError):
    """The simulator has no process by that name (or no replica in that region)."""

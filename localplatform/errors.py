"""The local platform's errors: one message, the fix, and the log lines that show the cause."""

from __future__ import annotations


class PlatformError(Exception):
    """Base of every error the local platform raises for a cause the user can act on."""

    def __init__(self, message: str, *, hint: str | None = None, log_tail: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        """The step that fixes it."""
        self.log_tail = log_tail
        """The last lines a failing process or tool printed."""


class BuildError(PlatformError):
    """A component could not be built from the Go module proxy."""


class StartError(PlatformError):
    """A component did not start or did not become healthy."""


class PortConflictError(StartError):
    """A loopback port the platform needs is held by another process."""


class NotRunningError(PlatformError):
    """The platform (or the part asked for) is not running."""


class ReloadError(PlatformError):
    """Prometheus or Alertmanager refused to reload: its configuration or a rule file is wrong."""


class RulesError(PlatformError):
    """A rule file was refused (by ``promtool check rules`` or by Prometheus); nothing changed."""

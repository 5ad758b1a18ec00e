"""The load tests' one error hierarchy; the command line turns each into one clear message.

Every error carries a ``hint``: the fix the user can apply. Nothing else in ``loadtests`` raises
for a user's mistake or an environment gap.
"""

from __future__ import annotations


class LoadtestError(Exception):
    """A user mistake or environment gap in the load tests or the simulator."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class TargetUnreachableError(LoadtestError):
    """The LibreChat URL under test does not answer."""


class BadCredentialsError(LoadtestError):
    """The target rejected the load-test user's email and password (or its User-Agent)."""


class CredentialsFileError(LoadtestError):
    """The credentials file is missing, empty or malformed."""


class LocustRunError(LoadtestError):
    """Locust could not run, or exited without writing its results."""

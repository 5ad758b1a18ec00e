"""The SLO package's one error: a definition that cannot be read, or a name it does not have."""

from __future__ import annotations


class SloError(Exception):
    """A user mistake in an SLO definition or in the environment or journey asked for."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

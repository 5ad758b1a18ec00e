"""The verification's errors: a message and what to do about it, shown without a traceback."""

from __future__ import annotations


class VerifyError(Exception):
    """The verification could not run as asked."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

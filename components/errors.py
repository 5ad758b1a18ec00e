"""The one small error hierarchy of the Pulumi components, translated at the CLI boundary.

What belongs here: exceptions that carry a user-facing message (a bad configuration key, a price
that is missing from the table, a program that cannot be planned). Bugs stay ordinary exceptions.
"""

from __future__ import annotations

import pulumi


class ComponentsError(Exception):
    """Base of every error the components raise for a user to read."""


class ConfigError(ComponentsError, pulumi.RunError):
    """A stack configuration value is missing or invalid; the message names the config key.

    Also a ``pulumi.RunError``, so ``pulumi up`` reports it as one line, without a traceback.
    """

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        """The full config key, e.g. ``librechat:regions``."""
        self.problem = problem
        """What is wrong with it and what is expected."""
        super().__init__(f"{key}: {problem}")


class PlanError(ComponentsError):
    """The offline plan could not run: unknown environment, unreadable stack file, bad program."""


class PriceError(ComponentsError):
    """The committed price table lacks an entry a planned resource needs."""

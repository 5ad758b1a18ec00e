"""The ``librechat-ops`` command line: the one front door to the toolkit.

What belongs here: the typer application, the machine check (``doctor``), the settings that the
command line reads from the environment, and the translation of every package's errors into a
one-line message and an exit code. Domain logic lives in the product packages it calls.
"""

__version__ = "0.1.0"

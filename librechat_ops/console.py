"""Terminal output shared by every command: the two consoles and the one way to fail (and the one
way to be stopped)."""

from __future__ import annotations

import signal
from types import FrameType
from typing import NoReturn

import typer
from rich.console import Console

console = Console()
"""Results go to standard output."""

err_console = Console(stderr=True)
"""Progress and errors go to standard error, so results can be piped."""

USER_ERROR_EXIT = 2
"""Exit code for a user's mistake or an environment gap that the message explains."""


def fail(message: str, hint: str | None = None, *, details: str | None = None) -> NoReturn:
    """Print one clear error (plus the fix and any supporting lines) and exit with code 2."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    if details:
        err_console.print(details, highlight=False, markup=False)
    if hint:
        err_console.print(f"[bold]fix:[/] {hint}", highlight=False)
    raise typer.Exit(USER_ERROR_EXIT)


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> NoReturn:
    raise SystemExit(128 + signum)


def stop_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so what a command started (a simulator, Locust) is stopped
    on the way out by its context managers."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)

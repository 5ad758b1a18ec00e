"""The chaos extension's door to the simulator (:mod:`librechat_sim`): its description, its
processes, and their control, with every simulator error turned into a :mod:`chaos.errors` one.

Which simulator: the one recorded under the experiment configuration's ``sim_state_dir``, else
under the toolkit's state directory (``librechat_sim.paths.state_dir``: ``$LIBRECHAT_OPS_STATE``,
then ``$XDG_STATE_HOME/librechat-ops``, then ``~/.local/state/librechat-ops``).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from librechat_sim import description, processes
from librechat_sim.errors import ProcessNotFoundError, SimError
from librechat_sim.paths import chaos_dir, state_dir
from librechat_sim.processes import Child

from ..errors import TargetNotFoundError, UnreachableError


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except ProcessNotFoundError as exc:
        raise TargetNotFoundError(exc.message, hint=exc.hint or "") from None
    except SimError as exc:
        raise UnreachableError(exc.message, hint=exc.hint or "") from None


class Simulator:
    """The simulator recorded under a state directory."""

    def __init__(self, state: Path) -> None:
        self.state = state

    @classmethod
    def configured(cls, configuration: dict[str, Any] | None) -> Simulator:
        """The simulator of an experiment's configuration (its ``sim_state_dir``, else the
        toolkit's state directory)."""
        return cls(state_dir(configured=(configuration or {}).get("sim_state_dir")))

    @property
    def url(self) -> str:
        """The front URL (haproxy)."""
        with _translated():
            return description.load(self.state).url

    @property
    def notes(self) -> Path:
        """Where experiments keep notes about this simulator (canaries, cut streams)."""
        return chaos_dir(self.state)

    def processes(self) -> list[Child]:
        """Every recorded process, in start order."""
        with _translated():
            return list(description.load(self.state).children)

    def find(self, name: str) -> Child:
        """The process called ``name``."""
        with _translated():
            return description.load(self.state).child(name)

    def replicas(self, region: str | None = None) -> list[Child]:
        """The API replicas (of ``region`` only, when given)."""
        with _translated():
            return description.load(self.state).replicas(region)

    def restart(self, process: Child) -> Child:
        """Start ``process`` again with its recorded command and record the new pid."""
        with _translated():
            new = processes.restart(process)
            description.record_restart(self.state, new)
        return new


def running(process: Child) -> bool:
    """True while ``process`` runs (a zombie or a recycled pid is not it)."""
    return processes.alive(process)


def paused(process: Child) -> bool:
    """True while ``process`` is stopped by SIGSTOP."""
    return processes.paused(process)


def send(process: Child, sig: signal.Signals) -> bool:
    """Send ``sig`` to ``process`` if it runs; True when sent."""
    return processes.send(process, sig)


def wait_gone(process: Child, timeout_s: float) -> bool:
    """Wait until ``process`` has exited; True when it has."""
    return processes.wait_gone(process, timeout_s)

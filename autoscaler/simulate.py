"""Replaying a policy against demand: pods that take time to start, and the oracle's schedule.

What belongs here: :class:`PodPool` (pods requested at step t serve from step t + lead; a
scale-down removes the newest pods first, as a ReplicaSet prefers unready and younger pods),
:class:`Supply` (what a policy provided, step by step) and :func:`oracle_schedule`.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np


class PodPool:
    """The pods of one policy; each pod is the step from which it is ready."""

    def __init__(self, initial: int, *, lead: int, now: int) -> None:
        self.lead = lead
        self.ready_at: list[int] = [now - lead] * initial

    @property
    def count(self) -> int:
        """Pods that exist (ready or starting): what is paid for."""
        return len(self.ready_at)

    def ready(self, step: int) -> int:
        """Pods serving during ``step``."""
        return bisect_right(self.ready_at, step)

    def scale(self, step: int, desired: int) -> None:
        """Ask for ``desired`` pods at ``step``."""
        if desired > self.count:
            self.ready_at.extend([step + self.lead] * (desired - self.count))
        else:
            del self.ready_at[desired:]


@dataclass(frozen=True)
class Supply:
    """What one policy provided over the evaluated steps."""

    replicas: np.ndarray
    """Pods that existed during each step (ready or starting)."""
    ready: np.ndarray
    """Pods that served during each step."""
    actions: int
    """Control steps at which the replica count changed."""


def oracle_schedule(need: np.ndarray, *, lead: int, low: int, high: int) -> np.ndarray:
    """Replicas the oracle asks for at each step: the most needed over the next ``lead`` steps.

    ``need`` is the pods each step requires (unknown demand counts as zero); pods asked for at
    step t are ready at t + lead, so asking for ``max(need[t..t+lead])`` has every step covered
    from the first one it could be, and nothing kept longer than required.
    """
    padded = np.concatenate([need, np.full(lead, need[-1] if len(need) else 0)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, lead + 1)
    schedule: np.ndarray = np.clip(windows.max(axis=1), low, high).astype(int)
    return schedule

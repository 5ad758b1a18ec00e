"""Replaying a policy against demand: pods that take time to start, and the oracle's schedule.

What belongs here: :class:`PodPool` (pods requested at step t serve from step t + lead; a
scale-down removes the newest pods first, as a ReplicaSet prefers unready and younger pods),
:class:`Supply` (what a policy provided, step by step), :func:`oracle_schedule` and
:func:`shortfall_floor` (the least any policy, even one that knows the future, can pay while
falling short in a given number of steps).
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


FLOOR_MAX_LEAD = 4
""":func:`shortfall_floor` keeps a state per pattern of the last ``lead`` steps (2^lead of them):
longer start-ups (in steps) are not computed."""


def shortfall_floor(
    need: np.ndarray, *, judged: int, lead: int, low: int, high: int, allowed: int
) -> float | None:
    """The fewest pod-steps any policy can pay over the first ``judged`` steps of ``need`` while
    too few pods are ready in at most ``allowed`` of them: infinite when more than ``allowed``
    steps need more than ``high`` (no policy keeps it), None when ``lead`` exceeds
    :data:`FLOOR_MAX_LEAD` (not computed).

    A pod ready at step t was asked for at t - lead at the latest and exists (is paid for) from
    then on, so pods at step s >= the need of every step of [s, s + lead] that is not short, and
    >= ``low``; a step whose need exceeds ``high`` is short whatever the policy does. The least
    total over every choice of at most ``allowed`` short steps is found exactly by dynamic
    programming over (short steps used, which of the last ``lead`` steps are short). With
    ``allowed`` = 0 it equals what the oracle of :func:`oracle_schedule` pays (within the
    window), so this is the oracle given the same shortfall budget as the policies: a lower
    bound on the cost of every policy that keeps the budget.
    """
    if lead > FLOOR_MAX_LEAD:
        return None
    # the need of each step, zero past the judged window (nothing is required there)
    ahead = np.zeros(judged + lead)
    ahead[:judged] = np.minimum(need[:judged], high)
    windows = np.lib.stride_tricks.sliding_window_view(ahead, lead + 1)  # (judged, lead + 1)
    patterns = 1 << (lead + 1)  # bit lead - j set: step s + j of the window is short
    cost = np.empty((judged, patterns))
    for pattern in range(patterns):
        kept = np.array([not (pattern >> (lead - j)) & 1 for j in range(lead + 1)], dtype=float)
        cost[:, pattern] = np.maximum((windows * kept).max(axis=1), low)
    masks = 1 << lead
    state = np.full((masks, allowed + 1), np.inf)
    state[0, 0] = 0.0
    for t in range(judged + lead):
        forced = t < judged and need[t] > high
        useless = t >= judged or need[t] <= low  # falling short there saves nothing
        nxt = np.full_like(state, np.inf)
        for mask in range(masks):
            for short in (1,) if forced else (0,) if useless else (0, 1):
                pattern = (mask << 1) | short
                add = cost[t - lead, pattern] if t >= lead else 0.0
                target = nxt[pattern & (masks - 1)]
                if short:
                    np.minimum(target[1:], state[mask, :-1] + add, out=target[1:])
                else:
                    np.minimum(target, state[mask] + add, out=target)
        state = nxt
    return float(state.min())

"""Load shapes as pure functions of elapsed time: smoke, ramp, spike and soak.

Each returns ``(users, spawn_rate)`` for the elapsed seconds, or None when the run is over. The
locustfile's one ``LoadTestShape`` calls the shape named by ``--shape``; keeping the arithmetic here
makes it testable without Locust.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Step = tuple[int, float] | None


@dataclass(frozen=True)
class ShapeSpec:
    """The parameters every shape takes."""

    users: int
    """Peak simulated users."""

    duration_s: float
    """Length of the whole run."""


SMOKE_ARRIVAL_S = 5.0
"""The smoke shape's users arrive over the first 10 % of the run, at most this long: all in the
same instant, their logins (a deliberately slow password hash) would queue behind each other and
the authentication P99 would measure the generator's burst, not the service."""


def smoke(spec: ShapeSpec, t: float) -> Step:
    """Every user, arriving within the first seconds, held for the whole duration: does every
    journey work at all?"""
    if t >= spec.duration_s:
        return None
    arrival = min(SMOKE_ARRIVAL_S, 0.1 * spec.duration_s)
    return spec.users, max(1.0, spec.users / arrival) if arrival > 0 else float(spec.users)


def ramp(spec: ShapeSpec, t: float) -> Step:
    """Climb linearly to the peak over 80 % of the run, then hold it."""
    if t >= spec.duration_s:
        return None
    climb = 0.8 * spec.duration_s
    return spec.users, max(0.1, spec.users / climb)


def spike(spec: ShapeSpec, t: float) -> Step:
    """A fifth of the users, the peak for the middle 30 % of the run, then back to a fifth."""
    if t >= spec.duration_s:
        return None
    base = max(1, spec.users // 5)
    if 0.3 * spec.duration_s <= t < 0.6 * spec.duration_s:
        return spec.users, float(max(1, spec.users))
    return base, float(max(1, spec.users))


def soak(spec: ShapeSpec, t: float) -> Step:
    """Ramp over the first 10 %, then hold the peak for a long time (leaks, slow growth)."""
    if t >= spec.duration_s:
        return None
    return spec.users, max(0.1, spec.users / (0.1 * spec.duration_s))


SHAPES: dict[str, Callable[[ShapeSpec, float], Step]] = {
    "smoke": smoke,
    "ramp": ramp,
    "spike": spike,
    "soak": soak,
}
"""Shapes by name."""

DEFAULT_DURATION_S: dict[str, float] = {"smoke": 30, "ramp": 300, "spike": 300, "soak": 3600}
"""Run length when ``--duration`` is not given."""

WARMUP_S = 5.0
"""Seconds at the start of a run that SLO verdicts leave out by default: every simulated user
logs in at once then (``loadtest --warmup``, ``verify``)."""


_DURATION = re.compile(
    r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?"
)


def parse_duration(text: str) -> float:
    """Seconds in ``"90"``, ``"90s"``, ``"5m"``, ``"1h"`` or ``"1h30m"``: each unit at most once,
    hours before minutes before seconds; ValueError otherwise (``"5m5m"``, ``"30s5m"``)."""
    text = text.strip().lower()
    if not text:
        raise ValueError("empty duration")
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        text += "s"
    match = _DURATION.fullmatch(text)
    if match is None or not any(match.groupdict().values()):
        raise ValueError(
            f"cannot read duration {text!r} (use 90s, 5m or 1h30m: each unit once, h, m, s)"
        )
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    seconds = sum(float(v) * units[k] for k, v in match.groupdict().items() if v)
    if seconds <= 0:
        raise ValueError(f"duration {text!r} must be more than zero")
    return seconds

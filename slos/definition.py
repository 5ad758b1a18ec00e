"""The SLO definition: per environment, each journey's objectives; the one reader of its file.

The shipped file is ``slos/slos.yaml``; a user copies it, edits it and passes the copy
(``--slo-file``). Unknown keys are refused. The burn-rate alert policy (DESIGN.md §4, the SRE
workbook's multiwindow, multi-burn-rate alerts) is here too: it applies to every objective.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from .errors import SloError

DEFAULT_FILE = Path(__file__).with_name("slos.yaml")
"""The SLOs shipped with the toolkit."""

JOURNEYS = (
    "authentication",
    "login",
    "message_delivery",
    "ai_inference",
    "time_to_complete",
    "search",
    "file_operations",
)
"""The user journeys an SLO may be set for (DESIGN.md §4, plus the password login and the whole
reply, which the seed gives no latency target)."""

Indicators = Literal["simulator", "kong"]
"""Where the indicators are measured: the LibreChat API simulator's own metrics (laptop), or
Kong's Prometheus plugin in front of LibreChat (the clouds)."""

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^(?:[0-9]+[smhdw])+$")


def duration_s(text: str) -> int:
    """Seconds in a Prometheus duration such as ``30d``, ``5m`` or ``1h30m``."""
    if not _DURATION.match(text):
        raise ValueError(f"{text!r} is not a duration such as 30s, 5m, 1h or 30d")
    return sum(int(n) * _UNITS[u] for n, u in re.findall(r"([0-9]+)([smhdw])", text))


def prom_duration(seconds: float) -> str:
    """``seconds`` as a Prometheus duration (``3600`` → ``1h``, ``2.5`` → ``2500ms``)."""
    if seconds != int(seconds):
        return f"{round(seconds * 1000)}ms"
    whole = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        use_attribute_docstrings=True,
        alias_generator=to_camel,
        populate_by_name=True,
    )


class LatencyObjective(_Model):
    """A latency objective: at least ``percentile`` of requests finish within ``threshold_ms``
    (OpenSLO: a ratio indicator, good = faster than the threshold, with that target)."""

    percentile: float = Field(gt=0, lt=1)
    """Share of requests that must be fast enough, e.g. 0.99 (the P99)."""

    threshold_ms: float = Field(gt=0)
    """The latency limit, milliseconds."""

    @property
    def label(self) -> str:
        """``P99`` for 0.99, ``P99.9`` for 0.999."""
        return f"P{self.percentile * 100:g}"

    @property
    def error_budget(self) -> float:
        """Share of requests allowed to be slower than the threshold."""
        return 1 - self.percentile


class JourneySlo(_Model):
    """One journey's objectives: always the environment's availability; latency when given."""

    description: str = ""
    """What the journey is, for the dashboards and alerts."""

    latency: tuple[LatencyObjective, ...] = ()
    """Latency objectives (at most one per percentile)."""

    @field_validator("latency")
    @classmethod
    def _one_per_percentile(
        cls, latency: tuple[LatencyObjective, ...]
    ) -> tuple[LatencyObjective, ...]:
        percentiles = [o.percentile for o in latency]
        if len(set(percentiles)) != len(percentiles):
            raise ValueError(f"two latency objectives for the same percentile: {percentiles}")
        return latency

    def threshold(self, percentile: float) -> float | None:
        """The limit at ``percentile`` in ms, or None."""
        return next((o.threshold_ms for o in self.latency if o.percentile == percentile), None)


class Environment(_Model):
    """One environment's SLOs."""

    description: str = ""
    """What the environment is."""

    time_window: str = "30d"
    """The rolling window the objectives are defined over (OpenSLO ``timeWindow``)."""

    budgeting_method: Literal["Occurrences"] = "Occurrences"
    """OpenSLO's budgeting method: the budget is a share of requests (the only one supported)."""

    availability: float = Field(gt=0, lt=1)
    """Share of every judged journey's requests that must succeed (0.999 is 99.9 %)."""

    min_requests: int = Field(default=1, ge=1)
    """A journey with a latency objective and fewer requests fails: too little data to trust."""

    indicators: Indicators = "simulator"
    """Where the indicators are measured (:mod:`slos.sli`)."""

    journeys: dict[str, JourneySlo]
    """Objectives per journey; a journey not listed is reported, never judged."""

    @field_validator("time_window")
    @classmethod
    def _window(cls, window: str) -> str:
        duration_s(window)
        return window

    @field_validator("journeys")
    @classmethod
    def _known(cls, journeys: dict[str, JourneySlo]) -> dict[str, JourneySlo]:
        unknown = sorted(set(journeys) - set(JOURNEYS))
        if unknown:
            raise ValueError(f"unknown journeys {unknown}; known: {list(JOURNEYS)}")
        return journeys

    @property
    def error_budget(self) -> float:
        """Share of requests allowed to fail over the window."""
        return 1 - self.availability

    @property
    def window_s(self) -> int:
        """The window in seconds."""
        return duration_s(self.time_window)


class SloFile(_Model):
    """The whole file: environments by name."""

    environments: dict[str, Environment]
    """SLOs per environment (``laptop``, ``staging``, ``production``...)."""


@dataclass(frozen=True)
class BurnAlert:
    """One multiwindow burn-rate alert: it fires while both windows burn the error budget faster
    than ``factor`` (1.0 spends exactly the budget over the SLO window)."""

    name: str
    """Suffix of the alert's name (``Page1h``)."""

    severity: Literal["page", "ticket"]
    """Who is told: ``page`` wakes someone, ``ticket`` is for working hours."""

    factor: float
    """Burn-rate threshold (14.4 spends 2 % of a 30-day budget in an hour)."""

    long_s: int
    """The long window, seconds: shows the burn is significant."""

    short_s: int
    """The short window, seconds: shows it is still happening, and resets the alert quickly."""


BURN_ALERTS = (
    BurnAlert("Page1h", "page", 14.4, 3600, 300),
    BurnAlert("Page6h", "page", 6.0, 6 * 3600, 1800),
    BurnAlert("Ticket3d", "ticket", 1.0, 3 * 86400, 6 * 3600),
)
"""DESIGN.md §4 (the SRE workbook, chapter 5): page at 14.4x over 1 h and 5 min, at 6x over 6 h
and 30 min; ticket at 1x over 3 d and 6 h."""


def load(path: Path = DEFAULT_FILE) -> SloFile:
    """Read and validate an SLO file."""
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise SloError(
            f"cannot read the SLO file {path}: {exc.strerror}",
            hint=f"copy {DEFAULT_FILE} and pass the copy with --slo-file",
        ) from None
    except yaml.YAMLError as exc:
        raise SloError(f"{path} is not valid YAML: {exc}") from None
    try:
        return SloFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise SloError(
            f"{path} does not match the SLO schema: {problems}",
            hint=f"compare with {DEFAULT_FILE}",
        ) from None


def environment(name: str, path: Path = DEFAULT_FILE) -> Environment:
    """The SLOs of environment ``name`` in ``path``."""
    environments = load(path).environments
    if name not in environments:
        raise SloError(
            f"no SLOs for environment {name!r} in {path}",
            hint="choose one of: " + ", ".join(sorted(environments)),
        )
    return environments[name]

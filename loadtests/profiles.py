"""SLO profiles: per environment, the latency targets and availability the verdict checks.

The defaults are ``loadtests/profiles.yaml`` (DESIGN.md §4); a user copies that file, edits it and
passes it with ``--profiles FILE``. This is the one place that reads a profiles file.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .common.names import JOURNEY_ENTRIES
from .errors import ProfileFileError, UnknownProfileError

DEFAULT_PROFILES = Path(__file__).with_name("profiles.yaml")
"""The profiles shipped with the toolkit."""


class JourneyTarget(BaseModel):
    """Targets of one journey: latency limits, or only the error budget (``judge_errors``); a
    journey with neither is reported, not judged."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    p99_ms: float | None = Field(default=None, gt=0)
    """99th-percentile latency limit, milliseconds."""

    p95_ms: float | None = Field(default=None, gt=0)
    """95th-percentile latency limit, milliseconds."""

    judge_errors: bool = False
    """Hold the journey to the profile's error budget even without a latency limit (a journey
    with a limit always is). Such a journey needs no minimum number of requests: the password
    login, for one, happens mostly in the warm-up."""

    @property
    def has_limit(self) -> bool:
        """A latency limit is set."""
        return self.p99_ms is not None or self.p95_ms is not None

    @property
    def judged(self) -> bool:
        """The journey decides the verdict (a latency limit, or the error budget)."""
        return self.has_limit or self.judge_errors


class Profile(BaseModel):
    """One environment's SLOs."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    description: str = ""
    """What the profile is for."""

    availability: float = Field(gt=0, le=1)
    """Share of requests that must succeed in every journey (0.999 is 99.9 %)."""

    min_requests: int = Field(default=1, ge=1)
    """A judged journey with fewer requests fails: too little data to trust."""

    journeys: dict[str, JourneyTarget]
    """Targets per journey (``authentication``, ``login``, ``message_delivery``,
    ``ai_inference``, ``time_to_complete``, ``search``, ``file_operations``)."""

    @field_validator("journeys")
    @classmethod
    def _known(cls, journeys: dict[str, JourneyTarget]) -> dict[str, JourneyTarget]:
        unknown = sorted(set(journeys) - set(JOURNEY_ENTRIES))
        if unknown:
            raise ValueError(f"unknown journeys {unknown}; known: {sorted(JOURNEY_ENTRIES)}")
        return journeys


class ProfilesFile(BaseModel):
    """The whole file: profiles by name."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    profiles: dict[str, Profile]
    """Profiles by name (``laptop``, ``staging``, ``production``...)."""


def load_profiles(path: Path = DEFAULT_PROFILES) -> ProfilesFile:
    """Read and validate a profiles file."""
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ProfileFileError(
            f"cannot read the profiles file {path}: {exc.strerror}",
            hint=f"copy {DEFAULT_PROFILES} and pass the copy with --profiles",
        ) from None
    except yaml.YAMLError as exc:
        raise ProfileFileError(f"{path} is not valid YAML: {exc}") from None
    try:
        return ProfilesFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ProfileFileError(
            f"{path} does not match the profiles schema: {problems}",
            hint=f"compare with {DEFAULT_PROFILES}",
        ) from None


def get_profile(name: str, path: Path = DEFAULT_PROFILES) -> Profile:
    """The profile called ``name`` in ``path``."""
    profiles = load_profiles(path).profiles
    if name not in profiles:
        raise UnknownProfileError(
            f"unknown SLO profile {name!r} in {path}",
            hint="choose one of: " + ", ".join(sorted(profiles)),
        )
    return profiles[name]

"""What a forecast hands to the capacity policy, and the record of each model refit.

What belongs here: :class:`Band` (the peak over the lead time with its error scale and calibrated
quantiles, the horizon forecast with its own, and why the model cannot be trusted if it cannot)
and :class:`FitRecord`. Plain data: no fitting, no decisions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from .calibrate import upper_score


@dataclass(frozen=True)
class Band:
    """What the forecaster expects after its last observation."""

    peak: float
    """Point forecast of the highest demand over the next ``lead + 1`` intervals."""
    sigma: float
    """Error scale of ``peak``: running RMS error of past peak forecasts, at least sqrt(peak)."""
    horizon: float
    """Mean forecast ``horizon_steps`` intervals after the last observation."""
    model: str
    """The seasonal model and the nowcast candidate in use (``level-only+…`` without a model)."""
    quantiles: tuple[float, ...] = ()
    """Calibrated quantiles of the peak's standardised errors at
    :data:`~autoscaler.calibrate.LEVELS` (conditional on the time of day)."""
    failure: str | None = None
    """Why the model cannot be trusted now (then the policy falls back to the reactive rule)."""
    horizon_sigma: float = math.nan
    """Error scale of ``horizon``."""
    horizon_quantiles: tuple[float, ...] = ()
    """Quantiles of the horizon forecast's standardised errors at the same levels."""
    burst: bool = False
    """Demand rose above the calibrated bound: the nowcast follows the surge."""
    anomaly: str | None = None
    """``surge`` or ``drop`` while demand stays outside the calibrated band (see
    :mod:`~autoscaler.nowcast`), else ``None``."""
    nowcast: float = math.nan
    """Point nowcast of the peak (the calibrated median of the candidate with the lowest
    absolute error): what the backtest compares with persistence."""
    event: str | None = None
    """The known event the start-up window overlaps (see :mod:`~autoscaler.events`), if any."""
    expected: float = math.nan
    """Demand that event expects over the start-up window (NaN: none expected)."""
    horizon_expected: float = math.nan
    """Demand any event up to the horizon expects (NaN: none expected)."""

    def upper(self, level: float) -> float:
        """Upper bound on the peak over the lead time at quantile ``level``."""
        return self.peak + upper_score(self.quantiles, level) * self.sigma

    def horizon_upper(self, level: float) -> float:
        """Upper bound on demand at the horizon at quantile ``level``."""
        return self.horizon + upper_score(self.horizon_quantiles, level) * self.horizon_sigma


@dataclass(frozen=True)
class FitRecord:
    """One refit, for the report."""

    time: pd.Timestamp
    """Time of the last observation the fit saw."""
    model: str
    """The model fitted (or ``failed``)."""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    """Warnings captured during the fit, or the failure."""

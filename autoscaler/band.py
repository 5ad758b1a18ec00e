"""What a forecast hands to the capacity policy, and the record of each model refit.

What belongs here: :class:`Band` (peak over the lead time, error scale, empirical quantiles of
standardised errors, the horizon forecast, and why the model cannot be trusted if it cannot),
:data:`PROBS` and :class:`FitRecord`. Plain data: no fitting, no decisions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

PROBS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999)
"""Probabilities at which the standardised-error quantiles are kept in every :class:`Band`."""


@dataclass(frozen=True)
class Band:
    """What the forecaster expects after its last observation."""

    peak: float
    """Highest mean forecast over the next ``lead + 1`` intervals (requests per interval)."""
    sigma: float
    """Error scale: running RMS error of forecasts ``lead + 1`` ahead, at least sqrt(peak)."""
    horizon: float
    """Mean forecast ``horizon_steps`` intervals after the last observation."""
    model: str
    """The seasonal model in use (``level-only`` without one)."""
    quantiles: tuple[float, ...] = ()
    """Empirical quantiles (at :data:`PROBS`) of recent errors in units of ``sigma``."""
    failure: str | None = None
    """Why the model cannot be trusted now (then the policy falls back to the reactive rule)."""

    def upper(self, coverage: float) -> float:
        """Upper bound on demand over the lead time that holds with probability ``coverage``."""
        if not self.quantiles:
            return math.nan
        return self.peak + float(np.interp(coverage, PROBS, self.quantiles)) * self.sigma


@dataclass(frozen=True)
class FitRecord:
    """One refit, for the report."""

    time: pd.Timestamp
    """Time of the last observation the fit saw."""
    model: str
    """The model fitted (or ``failed``)."""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    """Warnings captured during the fit, or the failure."""

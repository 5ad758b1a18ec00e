"""What every forecaster shares: input validation, per-fit warning capture and the results object.

What belongs here: :class:`ForecastResults` (``forecast(steps)`` and ``forecast_interval``), the
:class:`Forecaster` protocol that the models in :mod:`naive`, :mod:`ets` and :mod:`mstl` follow
(``Model(series, *, options).fit() -> results``), and the checks run before any fit. Nothing
model-specific lives here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from statistics import NormalDist
from typing import Protocol

import numpy as np
import pandas as pd

from .errors import SeriesError

PathFn = Callable[[int], np.ndarray]
"""Mean forecast for steps 1..n after the last observation."""


@dataclass(frozen=True)
class ForecastResults:
    """A fitted model: point forecasts, Gaussian prediction intervals and the fit's warnings."""

    model: str
    """Name of the model that produced the forecasts."""
    last: pd.Timestamp
    """Time of the last observation the model saw."""
    step: pd.Timedelta
    """Spacing of the series (and of the forecasts)."""
    path: PathFn
    """Mean forecast for steps 1..n."""
    sigma: float
    """Standard deviation of the one-step in-sample residuals."""
    growth: Callable[[np.ndarray], np.ndarray]
    """Multiplier of ``sigma`` for each horizon h (array of 1..n)."""
    fit_warnings: tuple[str, ...] = ()
    """Warnings raised while fitting (convergence and the like), captured per fit."""

    def forecast(self, steps: int) -> pd.Series:
        """Point forecasts for the next ``steps`` intervals."""
        _check_steps(steps)
        index = pd.date_range(self.last + self.step, periods=steps, freq=self.step)
        return pd.Series(self.path(steps), index=index, name=self.model)

    def forecast_interval(self, steps: int, coverage: float = 0.9) -> pd.DataFrame:
        """Columns ``lower``, ``mean``, ``upper`` of a central ``coverage`` prediction interval."""
        if not 0.0 < coverage < 1.0:
            raise SeriesError(f"coverage must be in (0, 1), got {coverage}")
        mean = self.forecast(steps)
        z = NormalDist().inv_cdf(0.5 + coverage / 2.0)
        half = z * self.sigma * self.growth(np.arange(1, steps + 1, dtype=float))
        return pd.DataFrame(
            {"lower": mean.to_numpy() - half, "mean": mean.to_numpy(), "upper": mean + half},
            index=mean.index,
        )


class Forecaster(Protocol):
    """The statsmodels shape: options in the constructor, ``fit()`` returns the results."""

    def fit(self) -> ForecastResults:
        """Fit the model to the series given to the constructor."""
        ...


def validate_series(series: object, *, model: str, min_length: int) -> pd.Series:
    """Check a forecaster's input up front and return it as a float series.

    The series must be a :class:`pandas.Series` on a regular :class:`pandas.DatetimeIndex`,
    finite (no NaN: resample or fill gaps first) and at least ``min_length`` long.
    """
    if not isinstance(series, pd.Series):
        raise SeriesError(f"{model}: series must be a pandas Series, got {type(series).__name__}")
    if not isinstance(series.index, pd.DatetimeIndex) or series.index.freq is None:
        raise SeriesError(f"{model}: series needs a DatetimeIndex with a regular frequency")
    values = pd.to_numeric(series, errors="coerce").astype(float)
    if not np.isfinite(values.to_numpy()).all():
        bad = int((~np.isfinite(values.to_numpy())).sum())
        raise SeriesError(f"{model}: series has {bad} NaN or infinite values; fill or resample")
    if len(values) < min_length:
        raise SeriesError(
            f"{model}: series has {len(values)} observations, needs at least {min_length}"
        )
    return values


def check_period(period: int, *, model: str) -> None:
    """Seasonal periods are whole numbers of intervals, at least 2."""
    if period < 2:
        raise SeriesError(f"{model}: seasonal period must be >= 2, got {period}")


@contextmanager
def captured_warnings() -> Iterator[list[str]]:
    """Record the warnings raised inside the block (for one fit) instead of raising or printing."""
    found: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield found
    found.extend(f"{w.category.__name__}: {w.message}" for w in caught)


def _check_steps(steps: int) -> None:
    if steps < 1:
        raise SeriesError(f"steps must be >= 1, got {steps}")


def sqrt_growth(h: np.ndarray) -> np.ndarray:
    """Interval growth of a random walk: sigma * sqrt(h)."""
    return np.asarray(np.sqrt(h), dtype=float)

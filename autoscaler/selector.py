"""Pick a forecaster per series by rolling-origin backtest error.

What belongs here: :class:`Selector` and its results. Each candidate is fitted at several origins
in the recent past, scored by mean absolute error over the next ``horizon`` steps, and the best is
refitted on the whole series. A candidate that raises or produces non-finite forecasts scores
infinity, and the reason is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .errors import SeriesError
from .forecast import Forecaster, ForecastResults, validate_series

Candidate = Callable[[pd.Series], Forecaster]
"""Builds a forecaster for a training series (e.g. ``lambda s: SeasonalNaive(s, period=96)``)."""


@dataclass(frozen=True)
class Selection:
    """What the selector found."""

    best: str
    """Name of the winning candidate."""
    results: ForecastResults
    """The winner fitted on the whole series."""
    scores: Mapping[str, float]
    """Mean absolute error per candidate (infinity for candidates that failed)."""
    failures: Mapping[str, str]
    """Why a candidate failed, per candidate name."""


class Selector:
    """Rolling-origin evaluation over the last ``origins`` windows of ``horizon`` steps."""

    def __init__(
        self,
        series: pd.Series,
        *,
        candidates: Mapping[str, Candidate],
        horizon: int,
        origins: int = 3,
    ) -> None:
        if not candidates:
            raise SeriesError("Selector: candidates must not be empty")
        if horizon < 1 or origins < 1:
            raise SeriesError(
                f"Selector: horizon and origins must be >= 1, got {horizon}, {origins}"
            )
        self.series = validate_series(series, model="Selector", min_length=horizon * origins + 2)
        self.candidates = dict(candidates)
        self.horizon = horizon
        self.origins = origins

    def fit(self) -> Selection:
        """Score every candidate, then refit the best one on the whole series."""
        scores: dict[str, float] = {}
        failures: dict[str, str] = {}
        warnings_seen: list[str] = []
        for name, build in self.candidates.items():
            try:
                errors = [
                    self._error_at(build, origin, warnings_seen) for origin in self._origins()
                ]
            except Exception as exc:  # any statsmodels failure disqualifies the candidate
                scores[name], failures[name] = float("inf"), f"{type(exc).__name__}: {exc}"
                continue
            scores[name] = float(np.mean(errors))
        finite = {name: score for name, score in scores.items() if np.isfinite(score)}
        if not finite:
            raise SeriesError(f"Selector: every candidate failed: {failures}")
        best = min(finite, key=finite.__getitem__)
        results = self.candidates[best](self.series).fit()
        merged = tuple(dict.fromkeys(warnings_seen + list(results.fit_warnings)))
        return Selection(
            best=best,
            results=replace(results, fit_warnings=merged),
            scores=scores,
            failures=failures,
        )

    def _origins(self) -> list[int]:
        n = len(self.series)
        return [n - k * self.horizon for k in range(self.origins, 0, -1)]

    def _error_at(self, build: Candidate, origin: int, warnings_seen: list[str]) -> float:
        train = self.series.iloc[:origin]
        actual = self.series.to_numpy()[origin : origin + self.horizon]
        results = build(train).fit()
        warnings_seen.extend(results.fit_warnings)
        predicted = results.forecast(len(actual)).to_numpy()
        if not np.isfinite(predicted).all():
            raise SeriesError("forecast is not finite")
        return float(np.mean(np.abs(predicted - actual)))

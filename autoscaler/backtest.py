"""The backtest: HPA, the predictive autoscaler and an oracle on the same demand, no peeking.

What belongs here: :func:`run_backtest`, which replays the three policies over a window
prepared by :func:`~autoscaler.prepare.prepare` and scores them, and :class:`BacktestResult`.
The settings and preparation are re-exported so that one import serves most callers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .band import FitRecord
from .prepare import BacktestSettings, Prepared, autoscaler_settings, prepare
from .replay import PolicyRun, replay_hpa, replay_oracle, replay_predictive
from .scoring import ForecastScore, score_forecast


@dataclass(frozen=True)
class BacktestResult:
    """Everything the report, the JSON and the plot need."""

    times: pd.DatetimeIndex
    """Start of each evaluated interval."""
    demand: np.ndarray
    """Requests per interval (NaN where unknown)."""
    pod_capacity: float
    """Requests per interval one pod serves."""
    step: pd.Timedelta
    """Interval length."""
    policies: dict[str, PolicyRun]
    """``hpa``, ``predictive`` and ``oracle``."""
    forecast: ForecastScore
    """Forecast accuracy at the horizon."""
    reasons: Counter[str]
    """How many predictive decisions each rule made."""
    horizon: pd.Timedelta
    """Horizon at which the forecast was scored."""
    fits: Sequence[FitRecord] = field(default_factory=list)
    """Every refit of the seasonal model during the run."""


def run_backtest(prepared: Prepared, *, hpa_target: float | None = None) -> BacktestResult:
    """Replay the three policies over a prepared window and score them."""
    settings = prepared.settings
    hpa = settings.hpa if hpa_target is None else replace(settings.hpa, target=hpa_target)
    predictive, reasons = replay_predictive(prepared, settings.coverage)
    runs = {
        "hpa": replay_hpa(prepared, hpa),
        "predictive": predictive,
        "oracle": replay_oracle(prepared),
    }
    return BacktestResult(
        times=pd.DatetimeIndex(prepared.series.index[prepared.first : prepared.last]),
        demand=prepared.demand,
        pod_capacity=prepared.pod_capacity,
        step=prepared.step,
        policies=runs,
        forecast=_forecast_score(prepared),
        reasons=reasons,
        horizon=settings.horizon,
        fits=prepared.fits,
    )


def _forecast_score(prepared: Prepared) -> ForecastScore:
    values = prepared.series.to_numpy()
    h = max(1, math.ceil(prepared.settings.horizon / prepared.step))
    n = prepared.last - prepared.first
    forecast, naive, actual = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    for i, seen in enumerate(prepared.inputs):
        target = prepared.first + i - 1 + h
        if target < prepared.last:
            forecast[i] = seen.band.horizon
            naive[i] = values[prepared.first + i - 1]
            actual[i] = values[target]
    return score_forecast(forecast, naive, actual)


__all__ = [
    "BacktestResult",
    "BacktestSettings",
    "PolicyRun",
    "Prepared",
    "autoscaler_settings",
    "prepare",
    "replay_hpa",
    "replay_oracle",
    "replay_predictive",
    "run_backtest",
]

"""The online forecaster: a seasonal model refitted on a schedule, corrected cheaply every step.

What belongs here: :class:`OnlineForecaster` and its settings. Fitting MSTL on 14 days of
1-minute data takes minutes, so the seasonal shape is learnt on a coarse grid (15-minute bins by
default), re-selected weekly and refitted daily; between refits each control step only updates a
damped-Holt correction of the residual (demand minus the seasonal forecast) and the spread of the
recent forecast errors. A step therefore costs microseconds, and refits are amortised over the
steps they serve. With too little history for a seasonal cycle, the correction alone is the model.
Refits run inline (the backtest) or on an executor the caller owns (the operator: one fit thread
for every autoscaler, so a control step never waits for another service's fit); a finished fit is
taken up at the next observation. ``phase`` (0..1) staggers each autoscaler's refit schedule over
one refit period, so that autoscalers started together do not refit together every day.
The peak over the start-up window, which sizes the pods, comes from the nowcast (:mod:`nowcast`)
anchored on the last interval and moved along the seasonal base; the horizon forecast (reported,
and for node headroom) from the base and the damped level, with its own error quantiles.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from .band import Band, FitRecord
from .errors import SeriesError
from .errortrack import ErrorTracker
from .events import EventCalendar
from .forecast import ForecastResults
from .models import candidates
from .nowcast import Nowcast, Nowcaster, NowcastSettings
from .selector import Candidate, Selector

_15_MIN = pd.Timedelta("15min")
_16_DAYS = pd.Timedelta("16D")
_1_DAY = pd.Timedelta("1D")
_7_DAYS = pd.Timedelta("7D")
_5_MIN = pd.Timedelta("5min")
_10_MIN = pd.Timedelta("10min")


@dataclass(frozen=True)
class ForecastSettings:
    """How the online forecaster learns; one configuration serves every service."""

    model_step: pd.Timedelta = _15_MIN
    """Resolution of the seasonal model (the series is summed onto this grid before fitting)."""
    history: pd.Timedelta = _16_DAYS
    """History the seasonal model sees: two weekly cycles, the selector's hold-out day, a spare."""
    refit_every: pd.Timedelta = _1_DAY
    """How often the chosen seasonal model is refitted on the latest history."""
    reselect_every: pd.Timedelta = _7_DAYS
    """How often the candidates are compared again by rolling-origin error."""
    level_halflife: pd.Timedelta = _5_MIN
    """Half-life of the residual level correction (shorter reacts faster, and noisier)."""
    trend_halflife: pd.Timedelta | None = None
    """Half-life of the residual trend (None: no trend term)."""
    trend_damping: pd.Timedelta = _10_MIN
    """Half-life over which an extrapolated trend fades out."""
    error_halflife: pd.Timedelta = _15_MIN
    """Half-life of the running mean of squared horizon forecast errors (``horizon_sigma``)."""
    error_window: pd.Timedelta = _7_DAYS
    """Recent standardised horizon forecast errors whose quantiles set the horizon's upper bound
    (the peak over the lead time has its own calibration, in the nowcast)."""
    min_errors: int = 10
    """Forecast errors needed before the forecast is trusted (before that: reactive rule)."""
    nowcast: NowcastSettings = field(default_factory=NowcastSettings)
    """The peak nowcast's candidates and calibration."""


def _weight(step: pd.Timedelta, halflife: pd.Timedelta) -> float:
    return float(1.0 - 0.5 ** (step / halflife))


@dataclass(frozen=True)
class _Outcome:
    """What a fit job produced: the results (and the model selected, if it selected), or why
    it failed."""

    results: ForecastResults | None
    selected: str | None
    error: str | None = None


@dataclass(frozen=True)
class _FitJob:
    """One refit or selection on a copy of the history: touches no forecaster state, so it may
    run on another thread."""

    coarse: pd.Series
    options: Mapping[str, Candidate]
    chosen: str | None
    """Refit this model; ``None``: select among ``options`` first."""
    holdout: int

    def run(self) -> _Outcome:
        try:
            if self.chosen is None:
                selection = Selector(
                    self.coarse, candidates=self.options, horizon=self.holdout, origins=4
                ).fit()
                return _Outcome(selection.results, selection.best)
            return _Outcome(self.options[self.chosen](self.coarse).fit(), None)
        except Exception as exc:  # a failing model must not stop the autoscaler
            return _Outcome(None, None, str(exc))


class OnlineForecaster:
    """Feed it one observation per interval with :meth:`observe`; :meth:`band` forecasts."""

    def __init__(
        self,
        settings: ForecastSettings,
        *,
        step: pd.Timedelta,
        lead_steps: int,
        horizon_steps: int,
        level: float = 0.99,
        executor: Executor | None = None,
        phase: float = 0.0,
        events: EventCalendar | None = None,
    ) -> None:
        model_step = max(settings.model_step, step)
        if model_step % step != pd.Timedelta(0):
            raise SeriesError(
                f"model step {model_step} is not a multiple of the series step {step}"
            )
        self.settings, self.step, self.model_step = settings, step, model_step
        self.per_bin = int(model_step / step)
        self.day_bins = int(pd.Timedelta("1D") / model_step)
        self.lead, self.horizon = lead_steps, horizon_steps
        self.values: deque[float] = deque(maxlen=int(settings.history / step) + self.per_bin)
        self.alpha = _weight(step, settings.level_halflife)
        self.beta = _weight(step, settings.trend_halflife) if settings.trend_halflife else 0.0
        self.phi = 0.5 ** (step / settings.trend_damping)
        self.level = self.trend = 0.0
        self.errors = ErrorTracker(
            weight=_weight(step, settings.error_halflife),
            window=int(settings.error_window / step),
        )
        self.last: pd.Timestamp | None = None
        self.base_start: pd.Timestamp | None = None
        self.base = np.zeros(0)
        self.model, self.chosen = "level-only", ""
        self.failure: str | None = None
        self.next_refit: pd.Timestamp | None = None
        self.next_select: pd.Timestamp | None = None
        self.fits: list[FitRecord] = []
        self.nowcaster = Nowcaster(settings.nowcast, step=step, lead=lead_steps, level=level)
        self.nowcast: Nowcast | None = None
        if not 0 <= phase < 1:
            raise SeriesError(f"phase must be in [0, 1), got {phase}")
        self.executor, self.phase = executor, phase
        self.events = events or EventCalendar()
        self.event: str | None = None
        self.expected = self.horizon_expected = math.nan
        self.pending: tuple[Future[_Outcome], pd.Timestamp, pd.Timestamp] | None = None

    def preload(self, start: pd.Timestamp, values: np.ndarray) -> None:
        """Load history (intervals from ``start``) without running the per-step correction."""
        if self.last is not None:
            raise SeriesError("preload() must come before the first observation")
        if len(values) == 0:
            return
        self.values.extend(float(v) for v in np.asarray(values, dtype=float))
        self.last = start + (len(values) - 1) * self.step

    def observe(self, time: pd.Timestamp, value: float) -> None:
        """Record the requests of the interval starting at ``time`` (NaN when unknown)."""
        if self.last is not None and time != self.last + self.step:
            raise SeriesError(f"observation at {time} does not follow {self.last} by {self.step}")
        value = float(value)
        finite = math.isfinite(value)
        if finite:
            self.errors.actual(time, value)
        base = self._base_at(time)
        self.nowcaster.observe(time, value if finite else math.nan, base)
        residual = value - base if finite else math.nan
        if math.isfinite(residual):
            predicted = self.level + self.phi * self.trend
            error = residual - predicted
            self.level = predicted + self.alpha * error
            self.trend = self.phi * self.trend + self.alpha * self.beta * error
        self.values.append(value if finite else math.nan)
        self.last = time
        if self.pending is not None and self.pending[0].done():
            future, coarse_end, seen = self.pending
            self.pending = None
            self._apply(future.result(), coarse_end, seen)
        due = self.next_refit is None or time + self.step >= self.next_refit
        if due and self.pending is None:
            self._refit()
        mean = self._mean(self.horizon)
        self.errors.expect(time + self.horizon * self.step, float(mean[-1]))
        following = time + self.step
        base_peak = float(np.max(self._base(following, self.lead + 1)))
        self._expect(following, base_peak, float(np.max(mean)))
        self.nowcast = self.nowcaster.forecast(following, base_peak, event=self.event is not None)

    def _expect(self, following: pd.Timestamp, base_peak: float, horizon_peak: float) -> None:
        """Which known event the start-up window overlaps, and what the events expect."""
        if not self.events:
            return
        ahead = following + (self.lead + 1) * self.step
        now = self.events.overlapping(following, ahead)
        self.event = now[0].name if now else None
        self.expected = self.events.expected(following, ahead, base_peak)
        until = following + self.horizon * self.step
        self.horizon_expected = self.events.expected(following, until, horizon_peak)

    def band(self) -> Band:
        """Forecast after the last observation: the peak to cover, its error scale, the horizon."""
        if self.last is None or self.nowcast is None:
            raise SeriesError("band() needs at least one observation")
        cast = self.nowcast
        horizon = float(self._mean(self.horizon)[-1])
        failure = self.failure
        if not (math.isfinite(cast.point) and math.isfinite(horizon)):
            failure = failure or "the model's forecast is not finite"
        elif cast.scored < self.settings.min_errors:
            failure = failure or (
                f"{cast.scored} forecast errors observed, {self.settings.min_errors} needed"
            )
        return Band(
            peak=cast.point,
            sigma=cast.scale,
            horizon=horizon,
            model=f"{self.model}+{cast.candidate}",
            quantiles=cast.quantiles,
            failure=failure,
            horizon_sigma=self.errors.scale(horizon),
            horizon_quantiles=self.errors.quantiles(),
            burst=cast.burst,
            nowcast=cast.median,
            anomaly=cast.anomaly,
            event=self.event,
            expected=self.expected,
            horizon_expected=self.horizon_expected,
        )

    def _mean(self, steps: int) -> np.ndarray:
        assert self.last is not None
        k = np.arange(1, steps + 1, dtype=float)
        damp = np.cumsum(self.phi**k) if self.beta else np.zeros(steps)
        return self._base(self.last + self.step, steps) + self.level + self.trend * damp

    def _base(self, start: pd.Timestamp, steps: int) -> np.ndarray:
        """The seasonal base for ``steps`` intervals from ``start`` (zeros without a model)."""
        if self.base_start is None:
            return np.zeros(steps)
        first = int((start - self.base_start) / self.step)
        base = np.full(steps, np.nan)
        lo, hi = max(first, 0), min(first + steps, len(self.base))
        if hi > lo:
            base[lo - first : hi - first] = self.base[lo:hi]
        return base

    def _base_at(self, time: pd.Timestamp) -> float:
        if self.base_start is None:
            return 0.0
        index = int((time - self.base_start) / self.step)
        if 0 <= index < len(self.base):
            return float(self.base[index])
        return math.nan

    def _refit(self) -> None:
        assert self.last is not None
        first = self.next_refit is None
        delay = self.settings.refit_every * ((1 + self.phase) if first else 1)
        self.next_refit = self.last + self.step + delay
        coarse = self._coarse()
        options = candidates(len(coarse), self.day_bins, holdout=self._holdout * 4)
        if not options:
            self._switch_base(None, np.zeros(0))
            self.model = "level-only"
            return
        select = self.next_select is None or self.last >= self.next_select
        select = select or self.chosen not in options
        job = _FitJob(coarse, options, self.chosen if not select else None, self._holdout)
        coarse_end = pd.Timestamp(coarse.index[-1])
        if self.executor is None:
            self._apply(job.run(), coarse_end, self.last)
        else:
            self.pending = (self.executor.submit(job.run), coarse_end, self.last)

    def _apply(self, outcome: _Outcome, coarse_end: pd.Timestamp, seen: pd.Timestamp) -> None:
        """Take up a finished fit made on the history up to ``seen``."""
        assert self.last is not None
        if outcome.error is not None:
            self.failure = f"refit of {self.chosen or 'the selector'} failed: {outcome.error}"
            self.fits.append(FitRecord(seen, "failed", (outcome.error,)))
            self.next_select = None
            self.next_refit = self.last + self.step + self.model_step
            return
        assert outcome.results is not None
        if outcome.selected is not None:
            self.chosen = outcome.selected
            self.next_select = seen + self.settings.reselect_every
        self.failure, self.model = None, outcome.results.model
        self.fits.append(FitRecord(seen, outcome.results.model, outcome.results.fit_warnings))
        self._switch_base(coarse_end + self.model_step, self._base_from(outcome.results))

    @property
    def _holdout(self) -> int:
        """Bins per rolling origin of the selector (four origins cover the last day)."""
        return max(1, self.day_bins // 4)

    def _switch_base(self, start: pd.Timestamp | None, base: np.ndarray) -> None:
        """Replace the seasonal base, shifting the level so the forecast stays continuous."""
        assert self.last is not None
        following = self.last + self.step
        before = self._base_at(following)
        self.base_start, self.base = start, base
        after = self._base_at(following)
        if math.isfinite(before) and math.isfinite(after):
            self.level += before - after
            self.nowcaster.shift(before - after)

    def _coarse(self) -> pd.Series:
        assert self.last is not None
        end = (self.last + self.step).floor(self.model_step)
        partial = int((self.last + self.step - end) / self.step)
        values = np.array(self.values, dtype=float)
        values = values[: len(values) - partial]
        bins = len(values) // self.per_bin
        sums = values[len(values) - bins * self.per_bin :].reshape(bins, self.per_bin).sum(axis=1)
        index = pd.date_range(end=end - self.model_step, periods=bins, freq=self.model_step)
        series = pd.Series(sums, index=index)
        first = series.first_valid_index()
        series = series.loc[first:] if first is not None else series.iloc[:0]
        series = series.fillna(series.shift(self.day_bins)).fillna(series.shift(-self.day_bins))
        return series.interpolate(limit_direction="both").asfreq(to_offset(self.model_step))

    def _base_from(self, results: ForecastResults) -> np.ndarray:
        """The coarse forecast as a per-interval rate, interpolated between bin centres."""
        span = self.settings.refit_every + (self.horizon + self.lead + 4 * self.per_bin) * self.step
        bins = int(span / self.model_step) + 2
        rate = results.forecast(bins).to_numpy() / self.per_bin
        centres = (np.arange(bins) + 0.5) * self.per_bin
        steps = int(bins * self.per_bin)
        return np.asarray(np.maximum(np.interp(np.arange(steps) + 0.5, centres, rate), 0.0))

"""The nowcast: the peak demand over the start-up window, from the last interval and the season.

What belongs here: :class:`Nowcaster` and :class:`NowcastSettings`. Each candidate forecasts the
peak over the next ``lead + 1`` intervals: ``last-value`` is plain persistence; the others forecast
the residual (demand minus the seasonal base) and add the base's peak: ``anchored`` keeps the last
residual (persistence, moved along the season), ``recent-max`` the largest residual of the last
``lead + 1`` intervals, ``smoothed-*`` an exponentially weighted level, ``toward-base-*`` plain
persistence shrunk part of the way toward the base's peak (a persistence-anchored forecast
combined with the season: on a noisy series the last value alone over-reacts to one interval),
and ``burst`` extrapolates the last rise. Each candidate has its own conformal calibration
(:mod:`calibrate`). Two are chosen by running pinball loss (Koenker's quantile loss): the one
whose upper bound scores best at the selection level sizes the pods; the one whose calibrated
median scores best (pinball at 0.5, i.e. half the absolute error) is the reported point nowcast.
When demand lands above every candidate's bound at the largest score it has seen (a surge no
model expected), the ``burst`` candidate takes over for the next window: the faster reactive
mode.

Anomalies come from the same kind of calibration, around a slow reference (the base plus a level
with a one-day half-life, its errors standardised by a one-day scale, so that a surge does not
move its own yardstick): when the peak of the window keeps landing, for
``anomaly_intervals`` intervals in a row, above the 99.5 % quantile of the reference's scores (a
surge the model did not expect) or below the 0.5 % one (a drop, often an outage upstream),
:attr:`Nowcast.anomaly` says which until demand is back inside the band. While it lasts, the
reference does not learn its errors (a lasting shift ends when the slow level has followed it).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pandas as pd

from .calibrate import CalibrationSettings, PeakCalibrator, RunningMean, upper_score

_2_MIN = pd.Timedelta("2min")
_5_MIN = pd.Timedelta("5min")
_3_DAYS = pd.Timedelta("3D")
_1_DAY = pd.Timedelta("1D")
ANOMALY_LEVELS = (0.005, 0.995)
"""The band demand must leave to be anomalous: quantiles of the reference's scores (not the
extremes, which the first intervals of a surge would move at once)."""


@dataclass(frozen=True)
class NowcastSettings:
    """The candidates and how one is chosen."""

    smoothing: tuple[pd.Timedelta, ...] = (_2_MIN, _5_MIN)
    """Half-lives of the ``smoothed-*`` candidates' residual level."""
    toward_base: tuple[float, ...] = (0.1, 0.25, 0.5)
    """Weights of the base's peak in the ``toward-base-*`` candidates (the rest on the last value);
    chosen on the development windows (Alibaba's 15-minute peaks: 1.009 times persistence's error
    without them, 0.969 with them; NASA and WorldCup within 0.3 %)."""
    selection_halflife: pd.Timedelta = _3_DAYS
    """Half-life of the running pinball loss that ranks the candidates."""
    calibration: CalibrationSettings = field(default_factory=CalibrationSettings)
    """How every candidate's scores are kept."""
    anomaly_halflife: pd.Timedelta = _1_DAY
    """Half-life of the slow reference level the anomaly band is drawn around."""
    anomaly_scale_halflife: pd.Timedelta = _1_DAY
    """Half-life of the reference's error scale."""
    anomaly_intervals: int = 3
    """Intervals in a row that keep the peak outside the calibrated band before demand is called
    anomalous (``window - 1 + anomaly_intervals`` windows in a row)."""


@dataclass(frozen=True)
class Nowcast:
    """The chosen candidate's forecast of the peak over the next window."""

    candidate: str
    """Which candidate (``burst`` while a surge is being followed)."""
    point: float
    """The candidate's forecast of the peak (requests per interval), bias-corrected."""
    scale: float
    """Its error scale."""
    quantiles: tuple[float, ...]
    """Calibrated standardised scores at :data:`~autoscaler.calibrate.LEVELS`."""
    scored: int
    """Forecasts this candidate has been scored on."""
    burst: bool
    """A surge above the calibrated bound is being followed."""
    median: float = math.nan
    """The point nowcast: the calibrated median of the candidate with the lowest absolute error
    (which may be another candidate)."""
    anomaly: str | None = None
    """``surge`` or ``drop`` while demand stays outside the calibrated band, else ``None``."""

    def upper(self, level: float) -> float:
        """Upper bound on the peak at ``level``."""
        return self.point + upper_score(self.quantiles, level) * self.scale


class _Candidate:
    """One way of forecasting the residual, with its calibration and running loss."""

    def __init__(self, name: str, calibrator: PeakCalibrator, weight: float) -> None:
        self.name, self.calibrator = name, calibrator
        self.loss = RunningMean(weight)
        self.median_loss = RunningMean(weight)
        self.pending: deque[tuple[pd.Timestamp, float, float]] = deque()
        self.last: Nowcast | None = None


class Nowcaster:
    """Feed :meth:`observe` one interval at a time with the seasonal base around it."""

    def __init__(
        self, settings: NowcastSettings, *, step: pd.Timedelta, lead: int, level: float
    ) -> None:
        self.settings, self.step, self.window, self.level = settings, step, lead + 1, level
        names = ["last-value", "anchored", "recent-max"]
        names += [f"smoothed-{int(h / pd.Timedelta('1min'))}m" for h in settings.smoothing]
        names += [f"toward-base-{round(w * 100)}" for w in settings.toward_base]
        names.append("burst")
        loss_weight = 1 - 0.5 ** (step / settings.selection_halflife)
        self.candidates = {
            name: _Candidate(
                name,
                PeakCalibrator(settings.calibration, step=step, window=self.window),
                loss_weight,
            )
            for name in names
        }
        self.alphas = [1 - 0.5 ** (step / h) for h in settings.smoothing]
        self.levels = [math.nan] * len(settings.smoothing)
        self.residuals: deque[float] = deque(maxlen=self.window)
        self.burst_left = 0
        self.last_value = math.nan
        self.chosen = self.central = "anchored"
        self.bands: deque[tuple[pd.Timestamp, float, float]] = deque()
        slow = replace(settings.calibration, scale_halflife=settings.anomaly_scale_halflife)
        self.reference = PeakCalibrator(slow, step=step, window=self.window)
        self.reference_weight = 1 - 0.5 ** (step / settings.anomaly_halflife)
        self.reference_level = math.nan
        self.direction: str | None = None
        self.outside = 0
        self.anomaly: str | None = None

    def observe(self, time: pd.Timestamp, value: float, base: float) -> None:
        """The demand of the interval starting at ``time`` and the seasonal base for it."""
        for candidate in self.candidates.values():
            done = candidate.calibrator.observe(time, value)
            upper, median = self._settle(candidate, time)
            if done is not None and math.isfinite(upper) and math.isfinite(median):
                self._score(candidate, upper, median, done[1])
        band = self._band_for(time)
        done = self.reference.observe(time, value, learn=self.anomaly is None)
        if band is not None and done is not None:
            self._judge(done[1], *band)
        bounds = [
            c.last.upper(1.0)
            for name, c in self.candidates.items()
            if name != "burst" and c.last is not None
        ]
        highest = max((b for b in bounds if math.isfinite(b)), default=math.nan)
        if math.isfinite(value) and value > highest:  # NaN bounds: no calibration yet
            self.burst_left = self.window
        elif self.burst_left:
            self.burst_left -= 1
        self.last_value = value
        residual = value - base if math.isfinite(value) and math.isfinite(base) else math.nan
        self.residuals.append(residual)
        if not math.isfinite(residual):
            return
        level = self.reference_level
        self.reference_level = (
            residual if math.isnan(level) else level + self.reference_weight * (residual - level)
        )
        for i, alpha in enumerate(self.alphas):
            level = self.levels[i]
            self.levels[i] = residual if math.isnan(level) else level + alpha * (residual - level)

    def shift(self, delta: float) -> None:
        """The seasonal base moved down by ``delta`` (a refit): residuals move up by as much."""
        self.residuals = deque((r + delta for r in self.residuals), maxlen=self.window)
        self.levels = [level + delta for level in self.levels]
        self.reference_level += delta

    def forecast(self, time: pd.Timestamp, base_peak: float, *, event: bool = False) -> Nowcast:
        """Forecast the peak over the window starting at ``time`` (``base_peak``: the base's;
        ``event``: the window overlaps a known event, calibrated apart)."""
        raws = self._raw(base_peak)
        for name, candidate in self.candidates.items():
            point, scale = candidate.calibrator.forecast(time, raws[name], event=event)
            cast = Nowcast(
                name,
                point,
                scale,
                candidate.calibrator.quantiles(time, event=event),
                candidate.calibrator.count,
                False,
            )
            candidate.last = cast
            candidate.pending.append((time, cast.upper(self.level), cast.upper(0.5)))
        self.chosen = self._best(lambda c: c.loss.value)
        self.central = self._best(lambda c: c.median_loss.value)
        used = self.candidates["burst" if self.burst_left else self.chosen].last
        central = self.candidates[self.central].last
        assert used is not None
        assert central is not None
        point, scale = self.reference.forecast(time, base_peak + self.reference_level, event=event)
        if self.reference.count >= self.settings.calibration.min_scores:
            scores = self.reference.quantiles(time, event=event)
            low, high = (upper_score(scores, q) for q in ANOMALY_LEVELS)
            self.bands.append((time, point + low * scale, point + high * scale))
        return replace(
            used, burst=bool(self.burst_left), median=central.upper(0.5), anomaly=self.anomaly
        )

    def _band_for(self, time: pd.Timestamp) -> tuple[float, float] | None:
        """The anomaly band made for the window that ends with ``time``, if there is one."""
        first = time - (self.window - 1) * self.step
        while self.bands and self.bands[0][0] < first:
            self.bands.popleft()
        if not (self.bands and self.bands[0][0] == first):
            return None
        _, low, high = self.bands.popleft()
        return (low, high) if math.isfinite(low) and math.isfinite(high) else None

    def _judge(self, peak: float, low: float, high: float) -> None:
        """Update the anomaly state with the peak of one completed window."""
        if not math.isfinite(peak):
            return  # unknown demand: the state stands
        direction = "surge" if peak > high else "drop" if peak < low else None
        if direction is None:
            self.direction, self.outside = None, 0
        elif direction == self.direction:
            self.outside += 1
        else:
            self.direction, self.outside = direction, 1
        # windows overlap: one odd interval puts ``window`` of them out in a row
        enough = self.outside >= self.window - 1 + self.settings.anomaly_intervals
        self.anomaly = self.direction if enough else None

    def _raw(self, base_peak: float) -> dict[str, float]:
        known = [r for r in self.residuals if math.isfinite(r)]
        last = known[-1] if known else math.nan
        rise = known[-1] - known[-2] if len(known) >= 2 else 0.0
        raws = {
            "last-value": self.last_value,
            "anchored": base_peak + last,
            "recent-max": base_peak + (max(known) if known else math.nan),
            "burst": base_peak + last + max(rise, 0.0) * self.window,
        }
        for i, h in enumerate(self.settings.smoothing):
            raws[f"smoothed-{int(h / pd.Timedelta('1min'))}m"] = base_peak + self.levels[i]
        for w in self.settings.toward_base:
            raws[f"toward-base-{round(w * 100)}"] = (1 - w) * self.last_value + w * base_peak
        return raws

    def _settle(self, candidate: _Candidate, time: pd.Timestamp) -> tuple[float, float]:
        """The upper bound and median made for the window that ends with ``time`` (NaN if none)."""
        first = time - (self.window - 1) * self.step
        while candidate.pending and candidate.pending[0][0] < first:
            candidate.pending.popleft()
        if candidate.pending and candidate.pending[0][0] == first:
            _, upper, median = candidate.pending.popleft()
            return upper, median
        return math.nan, math.nan

    def _score(self, candidate: _Candidate, upper: float, median: float, peak: float) -> None:
        candidate.loss.add(_pinball(peak, upper, self.level))
        candidate.median_loss.add(_pinball(peak, median, 0.5))

    def _best(self, loss: Callable[[_Candidate], float]) -> str:
        need = self.settings.calibration.min_scores
        ranked = [
            (loss(c), name)
            for name, c in self.candidates.items()
            if name != "burst" and c.calibrator.count >= need and math.isfinite(loss(c))
        ]
        return min(ranked)[1] if ranked else "anchored"


def _pinball(actual: float, forecast: float, q: float) -> float:
    """Koenker's quantile loss of ``forecast`` as the ``q`` quantile of ``actual``."""
    return q * (actual - forecast) if actual >= forecast else (1 - q) * (forecast - actual)

"""``PredictiveAutoscaler``: the autoscaler library in the loop, one control step per interval.

Each resource keeps one :class:`autoscaler.controller.PredictiveAutoscaler` (its forecaster and
scale-down window) on a grid of ``intervalSeconds``. A tick reads the intervals since the last one
from Prometheus (gaps and an unreachable Prometheus become NaN, which the library turns into the
reactive floor or a hold, never a scale-down), decides, writes replicas through the target's scale
subresource (``mode: auto``; ``observe`` only records), and reports forecast, recommendation and
reason in status when they change.

Threads: the ticks of every resource share :data:`STEPS` (a few threads: a tick is a Prometheus
query and microseconds of arithmetic), and every seasonal refit or model selection runs on the one
thread of :data:`FITS`, so a control step never waits for another service's fit (a minute-long
selection queue at start-up delays models, not decisions: until its model arrives a service runs on
the level-only nowcast). Each resource's refits are staggered over the day by a phase taken from
its name.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from autoscaler.capacity import CapacitySettings, Decision, headroom
from autoscaler.controller import AutoscalerSettings, PredictiveAutoscaler
from autoscaler.errors import AutoscalerError, EventsError
from autoscaler.events import parse_events
from autoscaler.prometheus import PrometheusSource

from . import autoscaler_metrics
from . import headroom as headroom_pods
from .kube import Kube, Obj
from .model import ServiceSpec

PRELOAD = pd.Timedelta("16D")
"""History read on the first tick (what the weekly seasonal model needs) ..."""
PRELOAD_STEPS = 24_000
"""... but no more intervals than this (short intervals get a shorter history)."""
REPLAY = pd.Timedelta("1D")
"""Of that history, the last day is replayed step by step so that the calibration has scores ...
"""
REPLAY_STEPS = 1440
"""... but no more intervals than this (about a second of CPU per autoscaler)."""

STEPS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="autoscaler-step")
"""Where the ticks of every PredictiveAutoscaler run (not kopf's pool of synchronous handlers)."""
FITS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autoscaler-fit")
"""The one thread for refits and selections: CPU-bound, and the per-fit warning capture of the
library changes process-wide warning filters, which only one thread may do at a time."""


def phase_of(namespace: str, name: str) -> float:
    """A stable phase in [0, 1) per resource, spreading refits over the refit period."""
    return zlib.crc32(f"{namespace}/{name}".encode()) / 2**32


@dataclass
class LoopState:
    """What one resource's loop keeps between ticks."""

    controller: PredictiveAutoscaler | None = None
    key: tuple[Any, ...] = ()
    """The settings the controller was built with (rebuilt when they change)."""
    last: pd.Timestamp | None = None
    """Start of the last interval fed to the controller."""
    headroom: int | None = None
    """Replicas of the headroom Deployment last applied (None: not applied by this process)."""
    headroom_shape: str | None = None
    """The target's requests and placement the headroom Deployment was last applied with."""


def settings_for(spec: Mapping[str, Any], target: Mapping[str, Any]) -> AutoscalerSettings:
    """The library's settings from the resource and its target service's bounds (raises
    :class:`~autoscaler.errors.EventsError` for ``spec.events`` the API server let through)."""
    interval = pd.Timedelta(seconds=int(spec.get("intervalSeconds", 60)))
    behavior = spec.get("behavior", {})
    window = int(behavior.get("scaleDownStabilizationSeconds", 300))
    hold = int(behavior.get("badDataHoldSeconds", 600))
    return AutoscalerSettings(
        capacity=CapacitySettings(
            pod_capacity=float(spec["podCapacity"]),
            min_replicas=max(1, int(target.get("minReplicas", 1))),
            max_replicas=max(1, int(target.get("maxReplicas", 10))),
            scale_down_window=max(1, math.ceil(window / interval.total_seconds())),
            shortfall_budget=float(spec.get("shortfallBudget", 0.01)),
            hold_limit=max(1, math.ceil(hold / interval.total_seconds())),
        ),
        step=interval,
        startup=pd.Timedelta(seconds=int(spec.get("startupDelaySeconds", 120))),
        horizon=pd.Timedelta(minutes=int(spec.get("horizonMinutes", 30))),
        events=parse_events(spec.get("events"), where="spec.events"),
    )


def _read(
    source: PrometheusSource, query: str, start: pd.Timestamp, end: pd.Timestamp, step: pd.Timedelta
) -> tuple[np.ndarray, str | None]:
    """Values on the grid [start, end) (NaN where missing) and what went wrong, if anything."""
    count = int((end - start) / step)
    try:
        values = source.range(query, start=start, end=end, step=step).to_numpy(dtype=float)
    except AutoscalerError as exc:
        return np.full(count, math.nan), str(exc)
    return values, None


def tick(
    kube: Kube,
    source: PrometheusSource,
    body: Mapping[str, Any],
    state: LoopState,
    now: pd.Timestamp,
) -> Obj:
    """One control step; returns the status to report."""
    meta, spec = body["metadata"], body["spec"]
    namespace = meta["namespace"]
    target = kube.get("LibreChatService", namespace, spec["targetRef"]["name"])
    if target is None:
        autoscaler_metrics.report(namespace, meta["name"], reason="target-missing")
        return {
            "reason": "target-missing",
            "detail": f"no LibreChatService {spec['targetRef']['name']}",
        }
    try:
        settings = settings_for(spec, target["spec"])
    except EventsError as exc:
        autoscaler_metrics.report(namespace, meta["name"], reason="invalid-spec")
        return {"reason": "invalid-spec", "detail": str(exc)}
    step = settings.step
    key = (spec["query"], settings)
    current = int(target["spec"].get("replicas", target["spec"].get("minReplicas", 1)))
    grid_now = now.floor(step) - step  # the last interval that is complete
    problem = None
    if state.controller is None or state.key != key:
        state.controller = PredictiveAutoscaler(
            settings, replicas=current, executor=FITS, phase=phase_of(namespace, meta["name"])
        )
        state.key = key
        span = min(PRELOAD, PRELOAD_STEPS * step)
        history, problem = _read(source, spec["query"], grid_now - span, grid_now, step)
        finite = np.flatnonzero(np.isfinite(history))
        if finite.size:
            first = int(finite[0])
            replay = min(int(REPLAY / step), REPLAY_STEPS)
            state.controller.preload(grid_now - span + first * step, history[first:], replay=replay)
        state.last = grid_now - step
    assert state.last is not None
    start = state.last + step
    if start > grid_now:
        return {}
    values, read_problem = _read(source, spec["query"], start, grid_now + step, step)
    problem = read_problem or problem
    decision: Decision | None = None
    for i, value in enumerate(values):
        when = start + i * step
        decision = state.controller.step(when, float(value), current=current)
        state.last = when
    assert decision is not None
    band = state.controller.forecaster.band()
    keeper = state.controller.keeper
    mode = spec.get("mode", "auto")
    if mode == "auto" and decision.replicas != current:
        kube.scale("LibreChatService", namespace, target["metadata"]["name"], decision.replicas)
    detail = decision.detail + (f" (metrics: {problem})" if problem else "")
    status: Obj = {
        "recommendedReplicas": decision.replicas,
        "currentReplicas": decision.replicas if mode == "auto" else current,
        "reason": decision.reason.value,
        "detail": detail,
        "mode": mode,
        "forecast": {
            "horizonMinutes": int(settings.horizon / pd.Timedelta(minutes=1)),
            "expected": _finite(band.horizon),
            "upper": _finite(band.horizon_upper(keeper.level)),
            "model": band.model,
        },
        "anomaly": band.anomaly or "none",
        "event": band.event or "none",
        "shortfall": {
            "budget": keeper.budget,
            "realised": _finite(keeper.realised),
            "intervals": keeper.known,
            "level": round(keeper.level, 6),
        },
    }
    pods = _headroom(kube, body, target, settings, state, replicas=decision.replicas)
    if pods is not None:
        status["headroom"] = {"replicas": pods, "deployment": headroom_pods.name_of(meta["name"])}
    finite = values[np.isfinite(values)]
    autoscaler_metrics.report(
        namespace,
        meta["name"],
        reason=status["reason"],
        recommended=status["recommendedReplicas"],
        current=status["currentReplicas"],
        forecast=status["forecast"]["expected"],
        forecast_upper=status["forecast"]["upper"],
        actual=float(finite[-1]) if finite.size else None,
        budget=keeper.budget,
        realised=status["shortfall"]["realised"],
        anomaly=band.anomaly,
    )
    return status


def _headroom(
    kube: Kube,
    body: Mapping[str, Any],
    target: Mapping[str, Any],
    settings: AutoscalerSettings,
    state: LoopState,
    *,
    replicas: int,
) -> int | None:
    """Size and apply the headroom Deployment when ``spec.headroom`` asks for one (written only
    when its replicas change); returns its replicas, or None when it is off."""
    wanted = body["spec"].get("headroom") or {}
    if not wanted.get("enabled"):
        if state.headroom:  # switched off: no pause pods left behind
            kube.apply(headroom_pods.deployment(body, {}, 0))
            state.headroom = 0
        return None
    assert state.controller is not None
    pods = headroom(
        settings.capacity,
        state.controller.forecaster.band(),
        replicas=replicas,
        level=state.controller.keeper.level,
        minimum=int(wanted.get("minPods", 0)),
    )
    resources = target["spec"].get("resources") or {}
    placement = ServiceSpec.from_resource(target).placement()
    shape = json.dumps([resources, placement], sort_keys=True)
    if pods != state.headroom or shape != state.headroom_shape:
        kube.apply(headroom_pods.deployment(body, resources, pods, placement))
        state.headroom, state.headroom_shape = pods, shape
    return pods


def _finite(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


def changed(previous: Mapping[str, Any] | None, status: Obj) -> bool:
    """Write only when the decision, its rule, the anomaly or the event changed: the forecast
    and the detail line carry numbers that move every step, and are refreshed with the next
    decision."""
    previous = previous or {}
    keys = (
        "recommendedReplicas",
        "currentReplicas",
        "reason",
        "mode",
        "anomaly",
        "event",
        "headroom",
    )
    return any(previous.get(k) != status.get(k) for k in keys)

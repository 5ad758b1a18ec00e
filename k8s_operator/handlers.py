"""The kopf handlers: the framework boundary of the operator.

Run with ``librechat-ops operator run`` or ``kopf run -m k8s_operator.handlers --all-namespaces``.
Handlers are thin: they call the converging functions and translate errors into kopf's terms
(a conflict or a transient API failure is retried within seconds, an invalid object is permanent).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import kopf
from prometheus_client import Counter, Gauge, Histogram, start_http_server

from . import autoscaler_metrics, chaos, platform, services
from .children import MANAGER
from .childwatch import ChildKind, ChildWatcher
from .crds import GROUP, VERSION
from .diffbase import ObservedGenerationDiffBase
from .kube import CrashPoint, Kube, KubeError, KubeUnavailable, OperatorError
from .settings import OperatorSettings
from .statuses import StatusWriter

RECONCILES = Counter(
    "librechat_operator_reconciles_total", "Reconciliations by kind and result", ["kind", "result"]
)
SECONDS = Histogram("librechat_operator_reconcile_seconds", "Reconciliation time", ["kind"])
WRITES = Gauge("librechat_operator_api_writes", "Write requests sent to the API server")
CONFLICTS = Gauge(
    "librechat_operator_api_conflicts",
    "409 Conflict answers from the API server (another writer changed the object first)",
)

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("librechat.operator")

CHILD_KINDS = (
    ChildKind("Deployment", "apps/v1"),
    ChildKind("Service", "v1"),
    ChildKind("ConfigMap", "v1"),
    ChildKind("ServiceAccount", "v1"),
    ChildKind("PodDisruptionBudget", "policy/v1"),
    ChildKind("NetworkPolicy", "networking.k8s.io/v1"),
)
"""The children's kinds, watched by :mod:`k8s_operator.childwatch` (not by kopf)."""

CHILD_LANES = 8
"""Threads handling the children's events, apart from kopf's own (which run the spec handlers)."""


def _kube(memo: Any) -> Kube:
    kube: Kube = memo.kube
    return kube


def _statuses(memo: Any) -> StatusWriter:
    writer: StatusWriter = memo.statuses
    return writer


def translated(kind: str) -> Callable[[F], F]:
    """Count and time a handler, and turn API errors into kopf's retry semantics."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            result = "ok"
            try:
                done = fn(*args, **kwargs)
            except platform.HandOffInProgress as exc:
                result = "waiting"
                raise kopf.TemporaryError(str(exc), delay=2) from exc
            except KubeError as exc:
                result = f"http-{exc.status}"
                if exc.status == 404:
                    return None  # the object went away meanwhile: nothing left to do
                if exc.status in (400, 422) and not exc.storage_failure:
                    _report(kind, kwargs, exc)
                    raise kopf.PermanentError(str(exc)) from exc
                _failed(kind, kwargs, exc)
                raise kopf.TemporaryError(str(exc), delay=1 if exc.status == 409 else 5) from exc
            except KubeUnavailable as exc:
                result = "unavailable"
                _failed(kind, kwargs, exc)
                raise kopf.TemporaryError(str(exc), delay=5) from exc
            finally:
                RECONCILES.labels(kind, result).inc()
                SECONDS.labels(kind).observe(time.monotonic() - started)
                if "memo" in kwargs:
                    WRITES.set(_kube(kwargs["memo"]).writes)
            _report(kind, kwargs, None)
            return done

        return wrapper  # type: ignore[return-value]

    return decorate


RECONCILED = "Reconciled"
"""The condition a permanent error sets to False (with the API server's refusal as its message);
True again once the object's handler succeeds, with reason ``Recovered`` when it had failed
temporarily on the way (the API server or its storage unreachable, a conflict)."""


def _own(kind: str, kwargs: Mapping[str, Any]) -> tuple[Any, Any]:
    """The handler's object and memo when the handler is the object's own (not a child's)."""
    body, memo = kwargs.get("body"), kwargs.get("memo")
    if body is None or memo is None or kind != body.get("kind"):
        return None, None
    return body, memo


def _failed(kind: str, kwargs: Mapping[str, Any], error: OperatorError) -> None:
    """Remember an object's temporary failure until its handler succeeds (kopf retries it)."""
    body, memo = _own(kind, kwargs)
    if body is not None:
        memo.failures[body["metadata"]["uid"]] = error


def _report(kind: str, kwargs: Mapping[str, Any], error: KubeError | None) -> None:
    """A permanent error (``error``) becomes the ``Reconciled`` condition, False, and a Warning
    Event, so the object does not go silent; a success after temporary failures sets it True
    with reason ``Recovered``, what failed last and for how long, and a Normal Event (kopf posts
    the failures themselves as Events when it can reach the API server); any later success sets
    it True. Only a change is written, among the conditions as last written (a service's through
    its status writer, others read fresh). Reporting is auxiliary: a failure to report is
    logged."""
    body, memo = _own(kind, kwargs)
    if body is None:
        return
    failure = memo.failures.pop(body["metadata"]["uid"], None) if error is None else None
    seen = (body.get("status") or {}).get("conditions") or []
    if (
        error is None
        and failure is None
        and not any(c.get("type") == RECONCILED and c.get("status") == "False" for c in seen)
    ):
        return  # the common case: nothing was wrong, nothing to read or write
    meta = body["metadata"]
    if error is not None:
        reason, message = "PermanentError", f"the API server refused: {error.reason or error}"
    elif failure is not None:
        runtime = kwargs.get("runtime")
        took = f" over {runtime.total_seconds():.0f} s" if runtime is not None else ""
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        reason = "Recovered"
        message = (
            f"reconciled at {at} after {kwargs.get('retry', 0)} failed attempts{took}; "
            f"the last: {str(failure)[:400]}"
        )
    else:
        reason, message = "Reconciled", "reconciled"
    kube = _kube(memo)

    def reconciled(previous: list[Any]) -> dict[str, Any]:
        return services.condition(
            RECONCILED,
            error is None,
            reason=reason,
            message=message,
            generation=int(meta.get("generation", 0)),
            previous=previous,
        )

    try:
        if kind == "LibreChatService":
            statuses = _statuses(memo)
            changed = statuses.set_condition(body, reconciled(statuses.current_conditions(body)))
        else:

            def with_reconciled(live: Mapping[str, Any]) -> dict[str, Any]:
                previous = (live.get("status") or {}).get("conditions") or []
                condition = reconciled(previous)
                if condition in previous:
                    return {}
                return {"conditions": [*services.others(previous, {RECONCILED}), condition]}

            changed = bool(_write_status(kube, kind, body, with_reconciled))
        if changed and reason != "Reconciled":
            kind_of = "Warning" if error is not None else "Normal"
            kube.event(body, type=kind_of, reason=reason, message=message)
    except OperatorError as exc:
        log.warning("could not report on %s/%s: %s", meta["namespace"], meta["name"], exc)


def _write_status(
    kube: Kube,
    kind: str,
    body: Mapping[str, Any],
    changes_to: Callable[[Mapping[str, Any]], dict[str, Any]],
    *,
    attempts: int = 3,
) -> dict[str, Any]:
    """Write ``changes_to(object)`` into the object's status, conditional on the version it was
    computed from (a merge patch replaces the shared ``conditions`` list whole); on a 409 read the
    object again and recompute. Returns what was written (empty: nothing to write)."""
    meta = body["metadata"]
    live = body
    for attempt in range(1, attempts + 1):
        changes = changes_to(live)
        if not changes:
            return changes
        version = live["metadata"].get("resourceVersion")
        try:
            kube.patch_status(
                kind, meta["namespace"], meta["name"], changes, resource_version=version
            )
        except KubeError as exc:
            if exc.status != 409 or attempt == attempts:
                raise
            fresh = kube.get(kind, meta["namespace"], meta["name"])
            if fresh is None:
                return {}
            live = fresh
            continue
        return changes
    return {}


class RetryForever:
    """kopf's ``error_backoffs``: these delays, then the last one again, without end (a fresh
    iterator per request)."""

    def __init__(self, delays: tuple[float, ...]) -> None:
        self.delays = delays

    def __iter__(self) -> Iterator[float]:
        yield from self.delays
        yield from itertools.repeat(self.delays[-1])


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    """Settings for a quiet, fast-retrying operator, and the API client."""
    config = OperatorSettings.from_env()
    settings.posting.level = logging.WARNING
    # Never give up on the API server: with a finite list kopf's watchers stop once it is spent
    # (about 9 s), and an operator cut off for longer stayed deaf after the API came back.
    settings.networking.error_backoffs = RetryForever((0.5, 1, 2, 5))
    # A request the API server holds without answering fails (and is retried) after 30 s, not
    # kopf's default 5 minutes.
    settings.networking.request_timeout = 30.0
    settings.networking.connect_timeout = 5.0
    settings.execution.max_workers = 16
    # kopf runs one worker per object with events, per watched kind, and keeps it for
    # `idle_timeout` after its last event. With 64 workers kept 5 s each, a burst of new services
    # was admitted at about 10 per second whatever the API server could do; workers now leave
    # after 1 s, and the limit (memory under bursts) is well above a burst's concurrency.
    settings.queueing.worker_limit = 300
    settings.queueing.idle_timeout = 1.0
    # Watches end and are opened again every minute: a watch the API server keeps open but no
    # longer feeds (seen after an etcd restart) costs at most that, not the 5 minutes it did.
    settings.watching.server_timeout = 60
    settings.watching.client_timeout = 90
    settings.persistence.finalizer = f"{GROUP}/operator"
    # A handled LibreChatService change is recorded by its status alone (see diffbase).
    settings.persistence.diffbase_storage = ObservedGenerationDiffBase(
        {"LibreChatService"},
        fallback=settings.persistence.diffbase_storage,
    )
    memo.settings = config
    memo.failures = {}  # uid -> the last temporary failure of an object's own handler
    memo.kube = Kube.connect(
        field_manager=config.field_manager,
        crash=CrashPoint.parse(config.crash_at_write),
    )
    CONFLICTS.set_function(lambda: memo.kube.conflicts)
    memo.statuses = StatusWriter(memo.kube, delay=config.status_delay)
    memo.statuses.start()
    memo.owners = {}  # (namespace, name) -> every LibreChatService as last seen
    memo.desired_children = services.DesiredChildren()
    memo.matched_specs = services.MatchedSpecs()
    memo.children = ChildWatcher(
        memo.kube,
        CHILD_KINDS,
        f"app.kubernetes.io/managed-by={MANAGER}",
        functools.partial(_child_event, memo),
        lanes=CHILD_LANES,
    )
    memo.children.start()
    if config.metrics_port:
        start_http_server(config.metrics_port, addr=config.metrics_host)


@kopf.on.cleanup()
def shut_down(memo: kopf.Memo, **_: Any) -> None:
    """Stop the status writer's thread and the children's watches."""
    if hasattr(memo, "statuses"):
        _statuses(memo).stop()
    if hasattr(memo, "children"):
        memo.children.stop()


# ---------------------------------------------------------------------- LibreChatService


@kopf.on.event(GROUP, VERSION, "librechatservices")
async def remember_service(body: kopf.Body, type: str | None, memo: kopf.Memo, **_: Any) -> None:
    """Keep every service as last seen, so child events find their owner without a request.
    A coroutine, run on kopf's loop: a plain function would go through its thread pool for
    each event, which cost 5 % of the operator's CPU for a dictionary update."""
    meta = body["metadata"]
    key = (meta["namespace"], meta["name"])
    if type == "DELETED":
        memo.owners.pop(key, None)
    else:
        memo.owners[key] = dict(body)


def _known_owner(memo: Any, namespace: str, name: str) -> dict[str, Any] | None:
    owner: dict[str, Any] | None = memo.owners.get((namespace, name))
    return owner if owner is not None else _kube(memo).get("LibreChatService", namespace, name)


@kopf.on.resume(GROUP, VERSION, "librechatservices")
@translated("LibreChatService")
def service_resumed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """After a restart: compare every child and converge what drifted (no write otherwise)."""
    deployment = services.converge(_kube(memo), body, compare=True)
    _statuses(memo).handled(body, deployment)


@kopf.on.create(GROUP, VERSION, "librechatservices")
@kopf.on.update(GROUP, VERSION, "librechatservices", field="spec")
@translated("LibreChatService")
def service_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """The spec is new: apply every child, then write the status (which records the generation
    as handled)."""
    deployment = services.converge(_kube(memo), body, compare=False)
    _statuses(memo).handled(body, deployment)


def _owner(body: Mapping[str, Any], kind: str) -> str | None:
    for ref in body["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == kind and ref.get("apiVersion", "").startswith(GROUP):
            name: str = ref["name"]
            return name
    return None


def _child_event(memo: kopf.Memo, type: str | None, body: Mapping[str, Any]) -> None:
    """A child changed or vanished (:mod:`k8s_operator.childwatch` calls this): restore it if it
    drifted; a Deployment's change refreshes the owner's status. The owner comes from the
    services seen: no read per event."""
    name = _owner(body, "LibreChatService")
    if name is None:
        return
    started = time.monotonic()
    kind = body["kind"]
    owner = _known_owner(memo, body["metadata"]["namespace"], name)
    gone = type == "DELETED"
    result = "ok"
    try:
        if owner is None or owner["metadata"].get("deletionTimestamp"):
            if gone and kind == "Deployment":
                _statuses(memo).forget(body["metadata"]["namespace"], name)
            return
        services.restore_child(
            _kube(memo),
            owner,
            body,
            gone=gone,
            desired_children=memo.desired_children,
            matched_specs=memo.matched_specs,
        )
        if kind == "Deployment" and _statuses(memo).observed(owner, body, gone=gone):
            # The owner's handler failed on a status write that was stored after all: kopf
            # will not run it again, so its recovery is reported here.
            _report("LibreChatService", {"body": owner, "memo": memo, "retry": 1}, None)
    except KubeError as exc:
        result = f"http-{exc.status}"
        raise
    except OperatorError:
        result = "unavailable"
        raise
    finally:
        RECONCILES.labels(kind, result).inc()
        SECONDS.labels(kind).observe(time.monotonic() - started)


# ---------------------------------------------------------------------- LibreChat


_PLATFORM_LOCKS = tuple(threading.Lock() for _ in range(16))
"""Serialize the readiness writes of one platform (a platform maps to one of them)."""


def _sync_platform_status(kube: Kube, body: Mapping[str, Any], extra: Mapping[str, Any]) -> None:
    """Count the platform's ready services and write its status. One platform at a time: its
    services' events run on several threads at once, and each counts, then writes conditional
    on the version it read. Unserialized, the writes conflicted; an event handler is not retried,
    so a count that saw every service Ready could lose three times to counts taken earlier, and
    the platform stayed not Ready with all its services Ready (seen once in CI, 120 s)."""
    meta = body["metadata"]
    with _PLATFORM_LOCKS[hash((meta["namespace"], meta["name"])) % len(_PLATFORM_LOCKS)]:
        _write_platform_status(kube, body, extra)


def _write_platform_status(kube: Kube, body: Mapping[str, Any], extra: Mapping[str, Any]) -> None:
    ready, total = platform.readiness(kube, body)
    all_ready = total > 0 and ready == total
    generation = int(body["metadata"].get("generation", 0))

    def changes_to(live: Mapping[str, Any]) -> dict[str, Any]:
        previous = (live.get("status") or {}).get("conditions") or []
        condition = services.condition(
            "Ready",
            all_ready,
            reason="AllServicesReady" if all_ready else "ServicesNotReady",
            message=f"{ready}/{total} services ready",
            generation=generation,
            previous=previous,
        )
        wanted = {
            "services": total,  # the platform handler's own count (``extra``) wins when it has one
            **extra,
            "observedGeneration": generation,
            "readyServices": ready,
            "conditions": [condition, *services.others(previous, {"Ready"})],
        }
        return services.status_changes(live.get("status"), wanted)

    _write_status(kube, "LibreChat", body, changes_to)


@kopf.on.resume(GROUP, VERSION, "librechats")
@kopf.on.create(GROUP, VERSION, "librechats")
@kopf.on.update(GROUP, VERSION, "librechats", field="spec")
@translated("LibreChat")
def platform_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Converge a platform's services (with the cold hand-off) and its status."""
    kube = _kube(memo)
    try:
        status = platform.converge(kube, body)
    except platform.HandOffInProgress as exc:
        meta = body["metadata"]
        kube.patch_status("LibreChat", meta["namespace"], meta["name"], {"phase": str(exc)})
        raise
    _sync_platform_status(kube, body, {**status, "phase": "Running"})


@kopf.on.event(GROUP, VERSION, "librechatservices", labels={"librechat.io/platform": kopf.PRESENT})
@translated("LibreChat")
def platform_service_event(body: kopf.Body, type: str | None, memo: kopf.Memo, **_: Any) -> None:
    """A platform's service changed: restore it if it drifted (or was deleted), refresh the
    platform's readiness."""
    name = _owner(body, "LibreChat")
    if name is None:
        return
    kube = _kube(memo)
    owner = kube.get("LibreChat", body["metadata"]["namespace"], name)
    if owner is None or owner["metadata"].get("deletionTimestamp"):
        return
    running = (owner.get("status") or {}).get("runningVersion")
    if running and running != owner["spec"]["version"]:
        return  # an upgrade is in progress: the platform handler drives it
    platform.restore_service(kube, owner, body, gone=type == "DELETED")
    _sync_platform_status(kube, owner, {})


# ---------------------------------------------------------------------- ChaosSchedule


@kopf.on.resume(GROUP, VERSION, "chaosschedules")
@kopf.on.create(GROUP, VERSION, "chaosschedules")
@kopf.on.update(GROUP, VERSION, "chaosschedules", field="spec")
@translated("ChaosSchedule")
def chaos_schedule_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Turn the schedule into a CronJob."""
    chaos.converge(_kube(memo), body, memo.settings)


@kopf.timer(GROUP, VERSION, "chaosschedules", interval=60, initial_delay=60)
@translated("ChaosSchedule")
def chaos_guard(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Re-evaluate the SLO guard every minute (suspending or resuming the CronJob)."""
    chaos.converge(_kube(memo), body, memo.settings)


# ---------------------------------------------------------------------- PredictiveAutoscaler


@kopf.daemon(GROUP, VERSION, "predictiveautoscalers", cancellation_timeout=5.0)
async def predictive_autoscaler(
    body: kopf.Body, stopped: kopf.DaemonStopped, memo: kopf.Memo, logger: Any, **_: Any
) -> None:
    """One control loop per resource, every ``intervalSeconds``, until the resource goes.

    The loop itself waits on the event loop; its ticks run on the autoscaler's own step threads
    (``autoscaling.STEPS``), so a thousand autoscalers hold no thread of kopf's handler pool."""
    # Only an operator with autoscalers pays for pandas and statsmodels (about 120 MiB), and the
    # first one imports them on a worker thread: a second of imports must not stall the event
    # loop that every other handler runs on. The imports below then find them loaded.
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, importlib.import_module, f"{__package__}.autoscaling")
    import pandas as pd  # noqa: PLC0415

    from autoscaler.errors import AutoscalerError  # noqa: PLC0415
    from autoscaler.prometheus import PrometheusSource  # noqa: PLC0415

    from . import autoscaling  # noqa: PLC0415

    kube = _kube(memo)
    source = PrometheusSource(memo.settings.prometheus_url, timeout=10, retries=0)
    state = autoscaling.LoopState()
    meta = body["metadata"]

    def step() -> None:
        status = autoscaling.tick(kube, source, body, state, pd.Timestamp.now(tz="UTC"))
        if status and autoscaling.changed(body.get("status"), status):
            kube.patch_status("PredictiveAutoscaler", meta["namespace"], meta["name"], status)

    while not stopped:
        try:
            await loop.run_in_executor(autoscaling.STEPS, step)
        except (OperatorError, AutoscalerError) as exc:
            logger.warning(f"autoscaler step failed, retrying next interval: {exc}")
        await stopped.wait(float(body["spec"].get("intervalSeconds", 60)))
    autoscaler_metrics.forget(meta["namespace"], meta["name"])

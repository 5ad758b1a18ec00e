"""The children's events: one shared watch per child kind, handled on a few lanes, without kopf.

A service's children change about 16 times each while it comes up (the Deployment with every pod,
the others once or twice), and kopf would run a handler per event, each through a worker task
per object, its own bookkeeping and a log line: most of the operator's CPU went there. Here each
kind is listed once (only the operator's children, by label), then watched from that list's
resourceVersion; each event goes to ``handle`` on one of ``lanes`` threads, an object always to
the same lane, so an object's events are handled in the order they came.

A watch the server ends (every ``WATCH_SECONDS``) is opened again from the last resourceVersion
seen (bookmarks keep it fresh). One the server refuses as too old (410 Gone), or an API server
that cannot be reached, starts over with a fresh list after a back-off; every listed object is
handed over again (event type None, as kopf does when it lists), so a drift made meanwhile is
restored.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .kube import Kube, KubeError, Obj, OperatorError

log = logging.getLogger("librechat.operator.children")

WATCH_SECONDS = 60
"""How long the server keeps one watch open before it ends it (and it is opened again)."""

BACKOFF = (0.5, 1.0, 2.0, 5.0)
"""Seconds before listing again after a failure, then the last one, without end."""

Handler = Callable[[str | None, Obj], None]
"""``handle(event type, object)``: type ``ADDED``/``MODIFIED``/``DELETED``, None when listed."""


@dataclass(frozen=True)
class ChildKind:
    """One kind to watch: its Kubernetes kind and the apiVersion its listed items lack."""

    kind: str
    api_version: str


class ChildWatcher:
    """Watches ``kinds`` (objects matching ``selector``) and hands their events to ``handle``."""

    def __init__(
        self,
        kube: Kube,
        kinds: Iterable[ChildKind],
        selector: str,
        handle: Handler,
        *,
        lanes: int = 8,
    ) -> None:
        self._kube = kube
        self._kinds = tuple(kinds)
        self._selector = selector
        self._handle = handle
        self._stopping = threading.Event()
        self._lanes: list[queue.SimpleQueue[tuple[str | None, Obj] | None]] = [
            queue.SimpleQueue() for _ in range(lanes)
        ]

    def start(self) -> None:
        for i, lane in enumerate(self._lanes):
            self._spawn(f"child-lane-{i}", self._work, lane)
        for kind in self._kinds:
            self._spawn(f"child-watch-{kind.kind}", self._watch, kind)

    def stop(self) -> None:
        """Stop handing events over (a watch in progress ends with its connection)."""
        self._stopping.set()
        for lane in self._lanes:
            lane.put(None)

    def _spawn(self, name: str, target: Callable[..., None], arg: Any) -> None:
        threading.Thread(target=target, args=(arg,), name=name, daemon=True).start()

    # ------------------------------------------------------------------ watching

    def _watch(self, kind: ChildKind) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                version = self._list(kind)
                failures = 0
                while not self._stopping.is_set():
                    version = self._follow(kind, version)
            except _StartOverError as exc:
                log.info(f"{kind.kind} watch starts over: {exc}")
                self._stopping.wait(BACKOFF[0])
            except OperatorError as exc:
                delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
                failures += 1
                log.warning(f"{kind.kind} watch failed, listing again in {delay} s: {exc}")
                self._stopping.wait(delay)

    def _list(self, kind: ChildKind) -> str:
        """Hand every object over (type None); returns the list's resourceVersion."""
        query = {"labelSelector": self._selector, "limit": "500"}
        while True:
            page = self._kube.request("GET", self._kube.path(kind.kind), query=query)
            for item in page["items"]:
                item["kind"], item["apiVersion"] = kind.kind, kind.api_version
                self._dispatch(None, item)
            token = page["metadata"].get("continue")
            if not token:
                version: str = page["metadata"]["resourceVersion"]
                return version
            query = {**query, "continue": token}

    def _follow(self, kind: ChildKind, version: str) -> str:
        """One watch from ``version`` until the server ends it; returns the last version seen."""
        query = {
            "labelSelector": self._selector,
            "resourceVersion": version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(WATCH_SECONDS),
        }
        for event in self._kube.watch(kind.kind, query, timeout=WATCH_SECONDS + 30):
            obj = event.get("object") or {}
            kind_of = event.get("type")
            if kind_of == "ERROR":
                raise _StartOverError(f"the server ended the watch: {obj.get('message', obj)}")
            version = obj.get("metadata", {}).get("resourceVersion", version)
            if kind_of != "BOOKMARK":
                self._dispatch(kind_of, obj)
            if self._stopping.is_set():
                break
        return version

    # ------------------------------------------------------------------ handing over

    def _dispatch(self, kind_of: str | None, obj: Obj) -> None:
        meta = obj.get("metadata", {})
        key = (obj.get("kind"), meta.get("namespace"), meta.get("name"))
        self._lanes[hash(key) % len(self._lanes)].put((kind_of, obj))

    def _work(self, lane: queue.SimpleQueue[tuple[str | None, Obj] | None]) -> None:
        while True:
            item = lane.get()
            if item is None:
                return
            kind_of, obj = item
            try:
                self._handle(kind_of, obj)
            except KubeError as exc:
                if exc.status != 404:  # 404: the object went away meanwhile
                    log.warning(f"{_name(obj)}: {exc}")
            except OperatorError as exc:
                log.warning(f"{_name(obj)}: {exc}")
            except Exception:
                log.exception(f"{_name(obj)}: the handler failed")


class _StartOverError(OperatorError):
    """The watch cannot go on from where it was: list again."""


def _name(obj: Obj) -> str:
    meta = obj.get("metadata", {})
    return f"{obj.get('kind')} {meta.get('namespace')}/{meta.get('name')}"

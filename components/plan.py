"""The offline plan: run the real Pulumi program under mocks and summarise what it declares.

What belongs here: running ``stacks/`` (by path, with runpy: nothing imports stacks) in a clean
Pulumi runtime context with :mod:`components.mocks`, and the pure summaries of the result — the
tree by region and component, and the difference between two plans.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import runpy
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from .mocks import PlanMocks, PlannedResource, RecordingMonitor
from .stackfile import load_stack

PROJECT = "librechat"
"""The project name of ``Pulumi.yaml``."""

GROUP_TYPES = {"librechat:environment:Region", "librechat:environment:Global"}
"""Top-level grouping components: one per region, plus ``global``."""


@dataclass(frozen=True)
class Plan:
    """What one environment's program declares."""

    env: str
    """Stack name."""
    resources: list[PlannedResource]
    """Every declared resource, components included."""
    notes: tuple[str, ...] = ()
    """What the program logged for its operator (``pulumi.log`` info and warnings, such as an
    alert receiver that is not configured), in order."""

    @property
    def custom(self) -> list[PlannedResource]:
        """Provider-managed resources only (what ``pulumi up`` would create)."""
        return [r for r in self.resources if r.custom]

    def of_type(self, typ: str) -> list[PlannedResource]:
        """Resources of one type token."""
        return [r for r in self.resources if r.type == typ]


def _in_fresh_runtime(body: Callable[[], None]) -> None:
    """Run ``body`` in an empty context (no Pulumi settings leak in or out) with owned loops."""
    worker_loops: list[asyncio.AbstractEventLoop] = []

    def init_worker() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        worker_loops.append(loop)

    def run() -> None:
        loop = asyncio.new_event_loop()
        executor = ThreadPoolExecutor(max_workers=4, initializer=init_worker)
        loop.set_default_executor(executor)
        asyncio.set_event_loop(loop)
        try:
            body()
        finally:
            executor.shutdown(wait=True)
            for worker in worker_loops:
                worker.close()
            loop.close()
            asyncio.set_event_loop(None)

    contextvars.Context().run(run)


class _Notes(logging.Handler):
    """Collects what the program logs through ``pulumi.log`` (the mock engine's logger)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname.lower()}: {record.getMessage()}")


def run_program(
    program_dir: Path, env: str, config: Mapping[str, str], secret_keys: list[str]
) -> Plan:
    """Run the program in ``program_dir`` under mocks with the given config."""
    mocks = PlanMocks()
    monitor = RecordingMonitor(mocks)
    saved = sys.modules.pop("config", None)
    notes = _Notes()
    logger = logging.getLogger(f"{__name__}.program")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(notes)

    def program() -> None:
        runpy.run_path(str(program_dir), run_name="__main__")

    def body() -> None:
        pulumi.runtime.set_all_config(dict(config), secret_keys)
        pulumi.runtime.set_mocks(
            mocks, project=PROJECT, stack=env, preview=False, logger=logger, monitor=monitor
        )
        pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]

    try:
        with warnings.catch_warnings():
            # pulumi-aws warns at import time about resources it deprecated (we use none of
            # them); only those import-time notices are ignored, nothing the program triggers.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulumi_aws\.")
            _in_fresh_runtime(body)
    finally:
        logger.removeHandler(notes)
        sys.modules.pop("config", None)
        if saved is not None:
            sys.modules["config"] = saved
    return Plan(env, monitor.planned(mocks), tuple(notes.lines))


def plan_env(
    env: str,
    program_dir: Path,
    overrides: Mapping[str, str | None] | None = None,
) -> Plan:
    """Plan a committed stack; ``overrides`` replace (or, with None, remove) config keys."""
    stack = load_stack(program_dir, env)
    config = dict(stack.config)
    secrets = list(stack.secret_keys)
    for key, value in (overrides or {}).items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
            if key in secrets:
                secrets.remove(key)
    return run_program(program_dir, env, config, secrets)


def locate(plan: Plan) -> dict[str, tuple[str, str]]:
    """URN -> (region or ``global``, top component name) for every resource."""
    by_urn = {r.urn: r for r in plan.resources}
    where: dict[str, tuple[str, str]] = {}
    for r in plan.resources:
        chain = [r]
        while chain[-1].parent in by_urn:
            chain.append(by_urn[chain[-1].parent])
        top = chain[-1]
        region = top.name if top.type in GROUP_TYPES else "(root)"
        component = chain[-2] if len(chain) >= 2 and top.type in GROUP_TYPES else top
        if component is r and r.custom:
            where[r.urn] = (region, "(providers)")
        else:
            where[r.urn] = (region, f"{component.type.split(':')[-1]} {component.name}")
    return where


Tree = dict[str, dict[str, Counter[str]]]
"""Region -> component -> resource type -> count (provider-managed resources only)."""


def tree(plan: Plan) -> Tree:
    """Count provider-managed resources by region, component and type."""
    where = locate(plan)
    out: Tree = {}
    for r in plan.custom:
        region, component = where[r.urn]
        out.setdefault(region, {}).setdefault(component, Counter())[r.type] += 1
    return out


def type_counts(plan: Plan) -> Counter[str]:
    """Provider-managed resources by type."""
    return Counter(r.type for r in plan.custom)


def compare_counts(a: Plan, b: Plan) -> dict[str, tuple[int, int]]:
    """Type -> (count in a, count in b) for every type whose count differs."""
    ca, cb = type_counts(a), type_counts(b)
    return {t: (ca[t], cb[t]) for t in sorted(set(ca) | set(cb)) if ca[t] != cb[t]}


SECRET_MASK = "[secret]"
"""What a secret input shows as in a reviewed plan (as ``pulumi preview`` prints it)."""

_SECRET_SIG = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")
"""The engine's signature key of a wrapped value, and its value for a secret."""


def _asset(value: Any) -> Any:
    """An asset or archive as its contents (a Lambda's code), or None for anything else."""
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {name: masked(asset) for name, asset in value.assets.items()}}
    if isinstance(value, pulumi.StringAsset):
        return {"text": value.text}
    if isinstance(value, pulumi.FileAsset | pulumi.FileArchive):
        return {"path": str(value.path)}
    return None


def masked(value: Any) -> Any:
    """``value`` with every secret-wrapped subtree replaced by :data:`SECRET_MASK`, and assets
    and archives as their contents."""
    asset = _asset(value)
    if asset is not None:
        return asset
    if isinstance(value, dict):
        if value.get(_SECRET_SIG[0]) == _SECRET_SIG[1]:
            return SECRET_MASK
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    return value


def steps(plan: Plan) -> list[dict[str, Any]]:
    """Every resource as a ``create`` step with its new state — type, URN, parent, provider,
    ``protect`` and inputs, secrets masked — in the shape of ``pulumi preview --json``'s
    ``steps``, so a reviewer or a script reads what would be created without the code."""
    return [
        {
            "op": "create",
            "urn": r.urn,
            "newState": {
                "type": r.type,
                "urn": r.urn,
                "custom": r.custom,
                "parent": r.parent or "",
                "provider": r.provider or "",
                "protect": r.protect,
                "inputs": masked(r.inputs),
            },
        }
        for r in plan.resources
    ]

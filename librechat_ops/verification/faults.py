"""Run one chaos experiment with ``chaos run`` and read what its journal says happened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from chaoslib.hypothesis import within_tolerance

import chaos

from .errors import VerifyError

EXPERIMENTS = Path(chaos.__file__).parent / "experiments"
"""The shipped experiments."""

TIMEOUT_S = 300.0
"""Longest one experiment may take, rollbacks included."""


LAPTOP_TAG = "simulator"
"""The tag of the experiments that run against the simulator on this machine."""


def known_experiments() -> list[str]:
    """The names of the shipped experiments."""
    return sorted(p.stem for p in EXPERIMENTS.glob("*.json"))


def laptop_experiments() -> list[str]:
    """The shipped experiments tagged for the simulator (the others need a cluster or AWS)."""
    return [
        name
        for name in known_experiments()
        if LAPTOP_TAG in json.loads((EXPERIMENTS / f"{name}.json").read_text()).get("tags", [])
    ]


@dataclass(frozen=True)
class FaultRun:
    """One experiment as its journal tells it (times in epoch seconds)."""

    experiment: str
    """Its name."""
    started_at: float
    """When ``chaos run`` started it."""
    injected_at: float
    """When its method (the fault) began."""
    ended_at: float
    """When it ended, rollbacks included."""
    status: str
    """chaostoolkit's status: ``completed``, ``failed``, ``aborted``, ``interrupted``."""
    hypothesis: str
    """``held`` (before and after), ``deviated`` (not after the fault) or ``not met before``."""
    failed_probes: tuple[str, ...]
    """The steady-state probes that did not hold."""
    failed_checks: tuple[str, ...]
    """The method's probes (checks made while the fault lasts) that failed or missed their
    tolerance: chaostoolkit only records these, the verdict judges them."""
    rollbacks_ok: bool
    """Every rollback ran and succeeded."""
    journal: Path
    """The journal file."""

    @property
    def passed(self) -> bool:
        """The experiment completed, its hypothesis held, every check during the fault held and
        its rollbacks succeeded."""
        return (
            self.status == "completed"
            and self.hypothesis == "held"
            and not self.failed_checks
            and self.rollbacks_ok
        )


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def _failed(state: dict[str, Any] | None) -> list[str]:
    if not state:
        return []
    return [p["activity"]["name"] for p in state.get("probes", []) if not p.get("tolerance_met")]


def failed_checks(method: list[dict[str, Any]]) -> list[str]:
    """The method's probes that raised, or whose output misses the tolerance they declare."""
    failed = []
    for run in method:
        activity = run.get("activity") or {}
        if activity.get("type") != "probe":
            continue
        raised = run.get("status") != "succeeded"
        missed = "tolerance" in activity and not within_tolerance(
            activity["tolerance"], run.get("output")
        )
        if raised or missed:
            failed.append(str(activity.get("name")))
    return failed


def read_journal(name: str, path: Path) -> FaultRun:
    """The :class:`FaultRun` a journal describes; a journal that cannot be read is a
    :class:`VerifyError`."""
    try:
        return _read_journal(name, path)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise VerifyError(
            f"cannot read the journal of {name}: {exc!r}", hint=f"look at {path}"
        ) from None


def _read_journal(name: str, path: Path) -> FaultRun:
    journal: dict[str, Any] = json.loads(path.read_text())
    states = journal.get("steady_states") or {}
    before, after = states.get("before"), states.get("after")
    if before is not None and not before.get("steady_state_met"):
        hypothesis = "not met before"
    elif journal.get("deviated") or (after is not None and not after.get("steady_state_met")):
        hypothesis = "deviated"
    else:
        hypothesis = "held"
    method = journal.get("run") or []
    rollbacks = journal.get("rollbacks") or []
    started = _epoch(journal["start"])
    return FaultRun(
        experiment=name,
        started_at=started,
        injected_at=_epoch(method[0]["start"]) if method else started,
        ended_at=_epoch(journal["end"]),
        status=str(journal.get("status")),
        hypothesis=hypothesis,
        failed_probes=tuple(_failed(before) + _failed(after)),
        failed_checks=tuple(failed_checks(method)),
        rollbacks_ok=bool(rollbacks) and all(r["status"] == "succeeded" for r in rollbacks),
        journal=path,
    )


def run_fault(name: str, env: dict[str, str], out_dir: Path, stem: str = "") -> FaultRun:
    """``chaos run --rollback-strategy=always`` the experiment ``name``; its journal and log go
    to ``out_dir`` as ``STEM.journal.json`` and ``STEM.log`` (``stem`` defaults to the name)."""
    stem = stem or name
    out_dir.mkdir(parents=True, exist_ok=True)
    journal = out_dir / f"{stem}.journal.json"
    log = out_dir / f"{stem}.log"
    journal.unlink(missing_ok=True)
    chaos_cli = str(Path(sys.executable).parent / "chaos")
    argv = [
        chaos_cli, "--log-file", str(log), "run",
        "--rollback-strategy=always", "--journal-path", str(journal),
        str(EXPERIMENTS / f"{name}.json"),
    ]  # fmt: skip
    try:
        subprocess.run(
            argv,
            env=os.environ | env,
            cwd=out_dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise VerifyError(
            f"experiment {name} did not finish within {TIMEOUT_S:g}s", hint=f"read {log}"
        ) from None
    if not journal.exists():
        raise VerifyError(f"experiment {name} wrote no journal", hint=f"read {log}")
    return read_journal(name, journal)

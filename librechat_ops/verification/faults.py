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

import chaos

from .errors import VerifyError

EXPERIMENTS = Path(chaos.__file__).parent / "experiments"
"""The shipped experiments."""

TIMEOUT_S = 300.0
"""Longest one experiment may take, rollbacks included."""


def known_experiments() -> list[str]:
    """The names of the shipped experiments."""
    return sorted(p.stem for p in EXPERIMENTS.glob("*.json"))


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
    rollbacks_ok: bool
    """Every rollback ran and succeeded."""
    journal: Path
    """The journal file."""

    @property
    def passed(self) -> bool:
        """The experiment completed, its hypothesis held and its rollbacks succeeded."""
        return self.status == "completed" and self.hypothesis == "held" and self.rollbacks_ok


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def _failed(state: dict[str, Any] | None) -> list[str]:
    if not state:
        return []
    return [p["activity"]["name"] for p in state.get("probes", []) if not p.get("tolerance_met")]


def read_journal(name: str, path: Path) -> FaultRun:
    """The :class:`FaultRun` a journal describes."""
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
        rollbacks_ok=bool(rollbacks) and all(r["status"] == "succeeded" for r in rollbacks),
        journal=path,
    )


def run_fault(name: str, env: dict[str, str], out_dir: Path) -> FaultRun:
    """``chaos run --rollback-strategy=always`` the experiment ``name``; its journal and log go
    to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    journal = out_dir / f"{name}.journal.json"
    journal.unlink(missing_ok=True)
    chaos_cli = str(Path(sys.executable).parent / "chaos")
    argv = [
        chaos_cli, "--log-file", str(out_dir / f"{name}.log"), "run",
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
            f"experiment {name} did not finish within {TIMEOUT_S:g}s",
            hint=f"read {out_dir / (name + '.log')}",
        ) from None
    if not journal.exists():
        raise VerifyError(
            f"experiment {name} wrote no journal", hint=f"read {out_dir / (name + '.log')}"
        )
    return read_journal(name, journal)

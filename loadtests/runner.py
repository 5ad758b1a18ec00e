"""``loadtest``: bring up a target if needed, run Locust headless in its own processes, judge.

Locust runs as ``python -m locust`` subprocesses (one, or a master plus ``workers``), so gevent's
monkey-patching never touches the calling process. This module imports no locust.
"""

from __future__ import annotations

import contextlib
import csv
import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from librechat_sim.cluster import Cluster
from librechat_sim.config import SimConfig
from librechat_sim.processes import free_port
from slos.definition import DEFAULT_FILE, Environment, environment

from .errors import CredentialsFileError, LocustRunError
from .preflight import check_login, check_target
from .report import write_report
from .results import RunResults
from .shapes import DEFAULT_DURATION_S, SHAPES
from .slo import Verdict, judge

LOCUSTFILE = Path(__file__).parent / "locustfiles" / "librechat.py"


@dataclass(frozen=True)
class LoadtestSpec:
    """Everything one ``loadtest`` run needs."""

    profile: str
    """The SLO environment judged against (``laptop``, ``staging``, ``production``)."""

    report_dir: Path
    """Where the verdict, the HTML report and Locust's files go."""

    profiles_file: Path | None = None
    """The SLO file (None: the shipped ``slos/slos.yaml``)."""

    target: str | None = None
    """LibreChat URL; None brings up the simulator for the run."""

    users: int = 10
    """Peak simulated users."""

    duration_s: float | None = None
    """Run length (None: the shape's default)."""

    shape: str = "smoke"
    """Load shape: smoke, ramp, spike or soak."""

    credentials_file: Path | None = None
    """CSV of ``email,password`` (None: the simulator's pre-seeded users)."""

    workers: int = 0
    """Locust worker processes (0: one local process; more: a master plus workers)."""

    sim: SimConfig | None = None
    """Simulator settings used when ``target`` is None."""

    chat_endpoint: str = "openAI"
    """The endpoint behind the ephemeral agent (``POST /api/agents/chat/<endpoint>``)."""

    chat_model: str = "gpt-4o-mini"
    """The model the chat journey asks for."""

    ledger: Path | None = None
    """Append every chat (what the client received) to this JSON-lines file."""

    warmup_s: float = 0.0
    """Seconds at the start the verdict leaves out (every user logs in at once)."""


@dataclass(frozen=True)
class Outcome:
    """What a run produced."""

    verdict: Verdict
    """The SLO verdict."""

    verdict_file: Path
    """The JSON verdict."""

    report_file: Path
    """The HTML report."""


def first_credential(spec: LoadtestSpec, seed_password: str) -> tuple[str, str]:
    """The first user the journeys will log in as."""
    if spec.credentials_file is None:
        return "loadtest-0@example.com", seed_password
    try:
        with spec.credentials_file.open(newline="") as handle:
            for row in csv.reader(handle):
                if len(row) >= 2 and not row[0].startswith("#"):
                    return row[0].strip(), row[1].strip()
    except OSError as exc:
        raise CredentialsFileError(f"cannot read {spec.credentials_file}: {exc.strerror}") from None
    raise CredentialsFileError(
        f"{spec.credentials_file} has no `email,password` line",
        hint="write one user per line: email,password",
    )


@contextlib.contextmanager
def target(spec: LoadtestSpec) -> Iterator[tuple[str, tuple[int, ...]]]:
    """The URL under test, and the pids of the simulator started for the run (none when
    ``spec.target`` is given); the simulator is stopped on the way out."""
    if spec.target is not None:
        yield spec.target, ()
        return
    if spec.sim is None:
        raise LocustRunError("no --target and no simulator settings")
    with Cluster(spec.sim) as info:
        yield info.url, tuple(c.pid for c in info.children)


def _locust_argv(spec: LoadtestSpec, host: str, results: Path, seed_password: str) -> list[str]:
    duration = spec.duration_s or DEFAULT_DURATION_S[spec.shape]
    argv = [
        "--host", host, "--lco-shape", spec.shape, "--lco-users", str(spec.users),
        "--lco-duration", str(duration), "--lco-results", str(results),
        "--lco-profile", spec.profile,
        "--lco-profiles", str(spec.profiles_file or DEFAULT_FILE),
        "--lco-seed-password", seed_password, "--loglevel", "WARNING",
        "--lco-chat-endpoint", spec.chat_endpoint, "--lco-chat-model", spec.chat_model,
        "--lco-warmup", str(spec.warmup_s),
    ]  # fmt: skip
    if spec.credentials_file is not None:
        argv += ["--lco-credentials", str(spec.credentials_file)]
    if spec.ledger is not None:
        argv += ["--lco-ledger", str(spec.ledger)]
    return argv


def run_locust(
    spec: LoadtestSpec,
    host: str,
    seed_password: str,
    *,
    locustfile: Path = LOCUSTFILE,
    extra: Sequence[str] = (),
    on_spawn: Callable[[list[int]], None] | None = None,
) -> tuple[RunResults, int]:
    """Run Locust headless against ``host``; return what it measured and its exit code.
    ``extra``: more options for ``locustfile``; ``on_spawn`` gets the pids of Locust's processes
    as soon as they start."""
    spec.report_dir.mkdir(parents=True, exist_ok=True)
    results = spec.report_dir / "results.json"
    results.unlink(missing_ok=True)
    common = [*_locust_argv(spec, host, results, seed_password), *extra]
    base = [sys.executable, "-m", "locust", "-f", str(locustfile)]
    own = ["--headless", "--html", str(spec.report_dir / "locust.html")]
    duration = spec.duration_s or DEFAULT_DURATION_S[spec.shape]
    log = spec.report_dir / "locust.log"
    workers: list[subprocess.Popen[bytes]] = []
    finished = False
    with log.open("wb") as out:
        if spec.workers > 0:
            port = free_port()
            own += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]
            own += ["--expect-workers", str(spec.workers)]
            for _ in range(spec.workers):
                worker = [*base, "--worker", "--master-host", "127.0.0.1"]
                worker += ["--master-port", str(port), *common]
                workers.append(subprocess.Popen(worker, stdout=out, stderr=subprocess.STDOUT))
        master = subprocess.Popen([*base, *own, *common], stdout=out, stderr=subprocess.STDOUT)
        try:
            if on_spawn is not None:
                on_spawn([master.pid, *(w.pid for w in workers)])
            master.wait(timeout=duration + 120)
            finished = True
        except subprocess.TimeoutExpired:
            raise LocustRunError(
                f"Locust did not finish within {duration + 120:g}s", hint=f"read {log}"
            ) from None
        finally:
            for proc in (master, *workers):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=15 if finished else 0.1)
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    if not results.exists():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise LocustRunError(
            f"Locust exited with code {master.returncode} without results:\n{tail}",
            hint=f"read {log}",
        )
    return RunResults.read(results), master.returncode


def run(spec: LoadtestSpec) -> Outcome:
    """Check the profile, bring up the target, check it, load it, judge it, write the report."""
    if spec.shape not in SHAPES:
        raise LocustRunError(f"unknown shape {spec.shape!r}", hint="one of " + ", ".join(SHAPES))
    profiles_file = spec.profiles_file or DEFAULT_FILE
    profile: Environment = environment(spec.profile, profiles_file)
    seed_password = spec.sim.seed_password if spec.sim else SimConfig.seed_password
    email, password = first_credential(spec, seed_password)
    with target(spec) as (host, _sim_pids):
        check_target(host)
        check_login(host, email, password)
        results, locust_exit_code = run_locust(spec, host, seed_password)
    verdict = judge(
        results, spec.profile, profile, processes=max(1, spec.workers), warmup_s=spec.warmup_s
    )
    verdict_file = spec.report_dir / "verdict.json"
    # Locust's own exit code comes from the locustfile's gate (what a Kubernetes Job sees).
    document = verdict.to_dict() | {"locust_exit_code": locust_exit_code}
    verdict_file.write_text(json.dumps(document, indent=2))
    report_file = write_report(verdict, results, spec.report_dir)
    return Outcome(verdict, verdict_file, report_file)

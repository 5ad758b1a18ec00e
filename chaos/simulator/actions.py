"""Faults for the simulator's processes: crash or pause a replica, lose Redis, lose a region.

Configuration (from the experiment's ``configuration``): ``sim_state_dir``, the toolkit's state
directory (default ``$LIBRECHAT_OPS_STATE`` or ``~/.local/state/librechat-ops``). Every fault is
undone by :func:`restore_all`, the rollback the experiments always run.
"""

import json
import logging
import signal
import time
from typing import Any

from librechat_sim.processes import Child

from ..errors import ChaosError
from .chat import ChatClient
from .state import Simulator, running, send, wait_gone

__all__ = [
    "kill_replica",
    "kill_replica_mid_stream",
    "pause_process",
    "remember_conversation",
    "restore_all",
    "resume_process",
    "start_process",
    "stop_redis",
    "take_down_region",
]

_log = logging.getLogger("chaostoolkit")

SEED_USER = "loadtest-0@example.com"
"""The simulator's first seeded user."""
SEED_PASSWORD = "loadtest-password"
"""The password of the simulator's seeded users (its documented test default)."""


def _sim(configuration: dict[str, Any] | None) -> Simulator:
    return Simulator.configured(configuration)


def _kill(process: Child) -> None:
    if not send(process, signal.SIGKILL):
        raise ChaosError(f"{process.name} is not running", hint="run the rollback: restore_all")
    send(process, signal.SIGCONT)  # a paused process dies only once it runs again
    if not wait_gone(process, 5.0):
        raise ChaosError(f"{process.name} (pid {process.pid}) survived SIGKILL")


def kill_replica(name: str = "r1", configuration: dict[str, Any] | None = None) -> str:
    """Crash one API replica with SIGKILL (no graceful shutdown); returns its name."""
    process = _sim(configuration).find(name)
    if not process.replica:
        raise ChaosError(f"{name} is not an API replica", hint="replicas are named r1, r2, ...")
    _kill(process)
    _log.info("killed replica %s (pid %d)", name, process.pid)
    return name


def take_down_region(region: str = "a", configuration: dict[str, Any] | None = None) -> list[str]:
    """Crash every API replica of ``region`` (a simulator started with two regions)."""
    victims = [p for p in _sim(configuration).replicas(region) if running(p)]
    for process in victims:
        _kill(process)
    _log.info("region %s down: killed %s", region, ", ".join(p.name for p in victims))
    return [p.name for p in victims]


def stop_redis(crash: bool = True, configuration: dict[str, Any] | None = None) -> str:
    """Take Redis away: SIGKILL when ``crash`` (a power cut), else SIGTERM (a clean shutdown)."""
    process = _sim(configuration).find("redis")
    if crash:
        _kill(process)
    else:
        send(process, signal.SIGTERM)
        if not wait_gone(process, 10.0):
            raise ChaosError("redis did not stop within 10 s of SIGTERM")
    return "redis"


def pause_process(
    name: str = "r1", seconds: float = 0.0, configuration: dict[str, Any] | None = None
) -> str:
    """Freeze a process with SIGSTOP (a long GC pause, a stuck host); with ``seconds`` > 0 wait
    that long and let it run again, else leave it frozen for :func:`resume_process`."""
    process = _sim(configuration).find(name)
    if not send(process, signal.SIGSTOP):
        raise ChaosError(f"{name} is not running", hint="run the rollback: restore_all")
    if seconds > 0:
        time.sleep(seconds)
        send(process, signal.SIGCONT)
    return name


def resume_process(name: str = "r1", configuration: dict[str, Any] | None = None) -> str:
    """Let a process frozen by :func:`pause_process` run again."""
    send(_sim(configuration).find(name), signal.SIGCONT)
    return name


def start_process(name: str = "redis", configuration: dict[str, Any] | None = None) -> str:
    """Start a stopped process again with its recorded command; nothing when it runs."""
    sim = _sim(configuration)
    process = sim.find(name)
    if not running(process):
        sim.restart(process)
    return name


def restore_all(configuration: dict[str, Any] | None = None) -> list[str]:
    """The rollback: let paused processes run, start every stopped one again (in start order,
    so Redis is back before the replicas); returns what it restarted."""
    sim = _sim(configuration)
    restarted = []
    for process in sim.processes():
        # SIGCONT whatever runs: a process SIGSTOPped a moment ago may not show as stopped yet,
        # and a running one ignores it.
        send(process, signal.SIGCONT)
        if not running(process):
            sim.restart(process)
            restarted.append(process.name)
    if restarted:
        _log.info("restarted %s", ", ".join(restarted))
    return restarted


def remember_conversation(
    email: str = SEED_USER,
    password: str = SEED_PASSWORD,
    configuration: dict[str, Any] | None = None,
) -> str:
    """Hold a complete conversation (message and reply) as a canary; the probe
    ``conversation_survives`` later checks that the server still has it. Returns its id."""
    sim = _sim(configuration)
    client = ChatClient(sim.url, email, password)
    delivery = client.follow_to_end(client.start("canary: does this survive?"), within_s=15)
    if not delivery.final:
        raise ChaosError("the canary conversation did not complete", hint="is the simulator up?")
    record = {"email": email, "password": password, "conversationId": delivery.stream_id}
    canary = sim.notes / "canary.json"
    canary.parent.mkdir(exist_ok=True)
    canary.write_text(json.dumps(record))
    return delivery.stream_id


def kill_replica_mid_stream(
    name: str = "r1",
    after_events: int = 3,
    email: str = SEED_USER,
    password: str = SEED_PASSWORD,
    configuration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Start a reply on replica ``name`` itself, read ``after_events`` events of its stream from
    it, then SIGKILL it: the replica dies owning the generation job and serving the stream. What
    the client had received is kept for the probe ``cut_replies_delivered_once``."""
    sim = _sim(configuration)
    process = sim.find(name)
    if not process.replica or process.port is None:
        raise ChaosError(f"{name} is not an API replica", hint="replicas are named r1, r2, ...")
    direct = f"http://127.0.0.1:{process.port}"
    client = ChatClient(sim.url, email, password)
    delivery = client.start("a reply to cut in the middle, please", base=direct)
    if client.follow(delivery, base=direct, stop_after_events=after_events):
        raise ChaosError(
            f"the reply finished within {after_events} events: nothing left to cut",
            hint="lower after_events or slow the mock LLM (sim up --tokens-per-second)",
        )
    _kill(process)
    record = {
        "email": email,
        "password": password,
        "streamId": delivery.stream_id,
        "requestMessageId": delivery.request_message_id,
        "seqs": delivery.seqs,
        "text": delivery.text,
        "lastEventId": delivery.last_event_id,
    }
    cut = sim.notes / "cut-streams" / f"{delivery.stream_id}.json"
    cut.parent.mkdir(parents=True, exist_ok=True)
    cut.write_text(json.dumps(record))
    _log.info("killed %s after %d events of stream %s", name, len(delivery.seqs), cut.stem)
    return {"replica": name, "streamId": delivery.stream_id, "received": len(delivery.seqs)}

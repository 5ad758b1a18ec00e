"""Bring the whole simulator up and down: redis-server, the mock LLM, the replicas, haproxy.

``Cluster(config).up()`` resolves ports (0 means a free one; a taken fixed port is a
:class:`~librechat_sim.errors.PortConflictError`), starts every process, seeds the users and writes
``<state>/sim/cluster.json``; on any failure it stops what it started. ``Cluster.down(state_dir)``
stops what that file lists, so ``sim up`` and ``sim down`` can run in different processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sys
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from types import TracebackType

from redis import Redis

from . import description, faultproxy, gateway, haproxy
from .config import SimConfig
from .description import ClusterInfo, load
from .errors import PortConflictError, ProgramMissingError, SimError
from .llm import cli_flags
from .paths import chaos_dir, cluster_file, sim_dir
from .processes import Child, alive, free_port, is_free, spawn, stop, wait_ready
from .seed import seed, seed_email
from .useragent import BROWSER_USER_AGENT

REDIS_SERVER = "/usr/bin/redis-server"
HAPROXY = "/usr/sbin/haproxy"
MAX_PORT = 65535


def _resolve_ports(config: SimConfig) -> tuple[SimConfig, tuple[int, ...]]:
    wanted: list[tuple[str, int]] = [
        ("haproxy (front)", config.front_port),
        ("redis-server", config.redis_port),
        ("mock LLM", config.llm_port),
    ]
    base = config.replica_base_port
    wanted += [(f"replica r{i + 1}", base + i if base else 0) for i in range(config.replicas)]
    if config.gateway.program:
        wanted += [
            ("AI gateway (LiteLLM)", config.gateway.port),
            ("fallback mock LLM", config.gateway.fallback_llm_port),
        ]
    invalid = [f"{port} (for {who})" for who, port in wanted if not 0 <= port <= MAX_PORT]
    if invalid:
        raise PortConflictError(
            "not TCP ports: " + ", ".join(invalid),
            hint=f"choose ports from 1 to {MAX_PORT} (0 picks a free one); the replicas take "
            "--base-port and the ports after it",
        )
    taken = [f"127.0.0.1:{port} (for {who})" for who, port in wanted if port and not is_free(port)]
    if taken:
        raise PortConflictError(
            "ports the simulator needs are taken: " + ", ".join(taken),
            hint="stop what holds them (`ss -ltnp` shows it), run `librechat-ops sim down` if it "
            "is an earlier simulator, or choose other ports with --port/--base-port",
        )
    fixed = [port for _, port in wanted if port]
    if len(set(fixed)) != len(fixed):
        raise PortConflictError("two simulator components were given the same port")
    ports: list[int] = []
    for _, asked in wanted:
        chosen = asked
        # free_port() may hand out a port again once its probe socket closed: draw until new.
        while not chosen or (not asked and (chosen in ports or chosen in fixed)):
            chosen = free_port()
        ports.append(chosen)
    front, redis_port, llm, *rest = ports
    replicas, gateway_ports = rest[: config.replicas], rest[config.replicas :]
    resolved = replace(config, front_port=front, redis_port=redis_port, llm_port=llm)
    if gateway_ports:
        port, fallback_port = gateway_ports
        ai = replace(config.gateway, port=port, fallback_llm_port=fallback_port)
        resolved = replace(resolved, gateway=ai)
    return resolved, tuple(replicas)


class Cluster:
    """A simulator started by this process (a context manager that always stops it)."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.dir = sim_dir(config.state_dir)
        self.info: ClusterInfo | None = None
        self._children: list[Child] = []

    def __enter__(self) -> ClusterInfo:
        return self.up()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def up(self) -> ClusterInfo:
        """Start everything, or stop what started and raise."""
        for program in (REDIS_SERVER, HAPROXY):
            if not Path(program).exists() and shutil.which(Path(program).name) is None:
                raise ProgramMissingError(
                    f"{program} is not installed",
                    hint="apt-get install -y redis-server haproxy (or run `make up`)",
                )
        if self.config.regions > 1 and self.config.replicas < self.config.regions:
            raise SimError(
                f"{self.config.regions} regions need at least {self.config.regions} replicas",
                hint="raise --replicas or use one region",
            )
        if self.config.gateway.program:
            gateway.check(self.config)
        if cluster_file(self.config.state_dir).exists() and any(
            alive(c) for c in load(self.config.state_dir).children
        ):
            raise SimError(
                f"a simulator is already running from {self.dir}",
                hint="run `librechat-ops sim down` first",
            )
        config, replica_ports = _resolve_ports(self.config)
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start(config, replica_ports)
        except BaseException:
            self.stop()
            raise
        assert self.info is not None
        return self.info

    def _start(self, config: SimConfig, replica_ports: tuple[int, ...]) -> None:
        logs = self.dir / "logs"
        config_file = self.dir / "sim.json"
        config_file.write_text(config.to_json())
        # Each simulator starts empty: no data, and no notes chaos experiments kept (``chaos/``)
        # about an earlier simulator's streams and conversations.
        for old in (self.dir / "redis", chaos_dir(config.state_dir)):
            shutil.rmtree(old, ignore_errors=True)
        (self.dir / "redis").mkdir()
        redis_argv = [
            shutil.which("redis-server") or REDIS_SERVER,
            "--port", str(config.redis_port), "--bind", "127.0.0.1", "--save", "",
            "--dir", str(self.dir / "redis"), "--daemonize", "no", *_persistence(config),
        ]  # fmt: skip
        redis = self._spawn("redis", redis_argv, logs)
        wait_ready(redis, config.redis_port, None)
        asyncio.run(seed(config))
        llm_argv = [
            sys.executable, "-m", "librechat_sim.llm", "--port", str(config.llm_port),
            *cli_flags(config.llm),
        ]  # fmt: skip
        llm = self._spawn("llm", llm_argv, logs)
        primary_port = config.llm_port
        if config.toxiproxy:  # the replicas reach the LLM and Redis through Toxiproxy
            config = faultproxy.prepare(config)
            proxies = faultproxy.plan(config)
            proxies_file = self.dir / "toxiproxy.json"
            proxies_file.write_text(json.dumps(proxies, indent=2))
            toxiproxy = self._spawn("toxiproxy", faultproxy.argv(config, proxies_file), logs)
            wired = faultproxy.wire(config, toxiproxy, proxies)
            config_file.write_text(wired.to_json())
            primary_port = wired.llm_port  # the gateway, too, reaches the primary through it
        upstreams = [(llm, config.llm_port, "/health", 20.0)]
        upstreams += self._start_gateway(config, primary_port, logs)
        replicas = []
        for index, port in enumerate(replica_ports):
            name = f"r{index + 1}"
            argv = [
                sys.executable, "-m", "librechat_sim.app", "--config", str(config_file),
                "--name", name, "--port", str(port),
            ]  # fmt: skip
            replicas.append((self._spawn(name, argv, logs, config.region_of(index)), port))
        for upstream, port, path, timeout_s in upstreams:
            wait_ready(upstream, port, path, timeout_s)
        if config.gateway.program:
            gateway.warm_up(config)
        for child, port in replicas:
            wait_ready(child, port, "/health")
            _warm_up(port, config)
        # The warm-up logins do not count against the users' login limit.
        with Redis(host="127.0.0.1", port=config.redis_port) as client:
            client.delete(f"{config.key_prefix}login_limiter:127.0.0.1")
        cfg = self.dir / "haproxy.cfg"
        regions = [config.region_of(i) for i in range(len(replica_ports))]
        text = haproxy.render(config.front_port, replica_ports, self.dir / "haproxy.pid", regions)
        cfg.write_text(text)
        haproxy_argv = [shutil.which("haproxy") or HAPROXY, "-f", str(cfg)]
        front = self._spawn("haproxy", haproxy_argv, logs)
        wait_ready(front, config.front_port, "/health")
        url = f"http://127.0.0.1:{config.front_port}"
        self.info = ClusterInfo(url, config, replica_ports, tuple(self._children))
        description.save(config.state_dir, self.info)

    def _start_gateway(
        self, config: SimConfig, primary_port: int, logs: Path
    ) -> list[tuple[Child, int, str, float]]:
        """Without a gateway nothing; else the fallback mock LLM and LiteLLM's proxy in front of
        it and of the primary (``primary_port``: the mock LLM, or its Toxiproxy proxy). Returns
        each with the port, path and time to wait for."""
        if not config.gateway.program:
            return []
        fallback_port = config.gateway.fallback_llm_port
        fallback_argv = [
            sys.executable, "-m", "librechat_sim.llm", "--port", str(fallback_port),
            *cli_flags(config.llm),
        ]  # fmt: skip
        fallback = self._spawn(gateway.FALLBACK, fallback_argv, logs)
        config_file = self.dir / "litellm.json"
        ports = {gateway.PRIMARY: primary_port, gateway.FALLBACK: fallback_port}
        gateway.write_config(config, ports, config_file)
        proxy = self._spawn("gateway", gateway.argv(config, config_file), logs)
        return [
            (fallback, fallback_port, "/health", 20.0),
            (proxy, config.gateway.port, gateway.LIVENESS, gateway.START_TIMEOUT_S),
        ]

    def _spawn(self, name: str, argv: list[str], logs: Path, region: str = "") -> Child:
        child = spawn(name, argv, logs / f"{name}.log", region)
        self._children.append(child)
        return child

    def stop(self) -> None:
        """Stop every process of this simulator, newest first: those this object started and
        those ``cluster.json`` records now (a chaos experiment may have started some again)."""
        recorded: tuple[Child, ...] = ()
        if cluster_file(self.config.state_dir).exists():
            with contextlib.suppress(SimError):
                recorded = load(self.config.state_dir).children
        for child in (*reversed(recorded), *reversed(self._children)):
            stop(child)
        self._children.clear()
        description.forget(self.config.state_dir)


def _warm_up(port: int, config: SimConfig) -> None:
    """One login on a replica before haproxy sends it traffic, as a readiness check would: its
    first request pays for the Redis connection and for code run the first time (compiled the first
    time in a fresh clone), 40-50 ms that would otherwise land in the first users' P99."""
    body = json.dumps({"email": seed_email(0), "password": config.seed_password}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/auth/login",
        data=body,
        headers={"Content-Type": "application/json", "User-Agent": BROWSER_USER_AGENT},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise SimError(f"replica on 127.0.0.1:{port} failed its first login: {exc}") from None


def _persistence(config: SimConfig) -> list[str]:
    if not config.redis_persistence:
        return ["--appendonly", "no"]
    return ["--appendonly", "yes", "--appendfsync", "always", "--appendfilename", "sim.aof"]


def down(state_dir: Path) -> list[str]:
    """Stop the simulator recorded under ``state_dir``; returns the names of what was running."""
    info = load(state_dir)
    stopped = [c.name for c in info.children if alive(c)]
    for child in reversed(info.children):
        stop(child)
    description.forget(state_dir)
    return stopped

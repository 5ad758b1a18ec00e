"""Bring the local platform up, report on it, and take it down.

``up`` is idempotent and recovers: healthy components are reused, dead or half-dead ones are
restarted, and a failure stops whatever this call started, so no orphan is left behind.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import kubeconfig, ports, process
from .alertmanager import ALERTMANAGER
from .alertmanager import url as alertmanager_url
from .build import Binaries, Builder, Progress
from .components import AUDIT_POLICY, CONTROL_PLANE, Component
from .errors import NotRunningError, PortConflictError, StartError
from .kubeapi import KubeApi
from .layout import Layout
from .nodes import ensure_nodes, release_node_leases, wait_for_service_account
from .pki import IDENTITIES
from .prometheus import PROMETHEUS
from .prometheus import url as prometheus_url
from .versions import Versions

COMPONENTS: tuple[Component, ...] = (*CONTROL_PLANE, ALERTMANAGER, PROMETHEUS)
"""Start order: Prometheus sends its alerts to Alertmanager, so Alertmanager comes first."""
API_SERVER = f"https://{ports.LOOPBACK}:{ports.KUBE_APISERVER}"
PORT_GRACE = 5.0
"""Seconds a taken port may take to come free: a component killed a moment ago (a crash, or
`kill -9`) shows as gone while its other threads still close its sockets."""


def _freed(port: int, grace: float) -> bool:
    deadline = time.monotonic() + grace
    while not ports.is_free(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@dataclass(frozen=True)
class ComponentStatus:
    """What ``status`` reports for one component."""

    name: str
    state: str
    """``running`` (probe passes), ``unhealthy`` (process alive, probe fails) or ``stopped``."""
    pid: int | None
    ports: tuple[int, ...]
    log: Path


@dataclass
class UpResult:
    """What ``up`` did."""

    kubeconfig: Path
    prometheus_url: str
    nodes: list[str]
    alertmanager_url: str = field(default_factory=alertmanager_url)
    started: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    seconds: float = 0.0


Step = Callable[[str], None]


class LocalPlatform:
    """One local platform, kept under ``state_dir/cluster``, built into ``cache_dir``."""

    def __init__(
        self,
        state_dir: Path,
        cache_dir: Path,
        *,
        versions: Versions | None = None,
        build_progress: Progress | None = None,
        go: str = "go",
    ) -> None:
        self.layout = Layout(state_dir / "cluster")
        self.builder = Builder(cache_dir, versions, go=go, progress=build_progress)

    # ------------------------------------------------------------------ up

    def up(self, nodes: int = 3, *, on_step: Step | None = None) -> UpResult:
        """Start (or recover) every component, then make ``nodes`` kwok nodes Ready."""
        step = on_step or (lambda _msg: None)
        t0 = time.monotonic()
        binaries = self.builder.ensure()
        layout = self.layout
        layout.root.mkdir(parents=True, exist_ok=True)
        layout.root.chmod(0o700)  # tokens and kubeconfigs live here
        if not layout.pki.exists():
            step("generating certificates and tokens")
            layout.pki.generate()
        self._write_kubeconfigs()
        layout.audit_policy.write_text(AUDIT_POLICY)
        result = UpResult(layout.kubeconfig, prometheus_url(), [])
        started: list[Component] = []
        try:
            for comp in COMPONENTS:
                if self._start_one(comp, binaries, step):
                    started.append(comp)
                    result.started.append(comp.name)
                else:
                    result.reused.append(comp.name)
            step(f"waiting for {nodes} kwok node(s) to be Ready")
            try:
                result.nodes = ensure_nodes(self.api(), nodes)
            except StartError as exc:
                exc.log_tail = process.tail(layout.log("kwok"))
                raise
            try:
                wait_for_service_account(self.api())
            except StartError as exc:
                exc.log_tail = process.tail(layout.log("kube-controller-manager"))
                raise
        except BaseException:
            for comp in reversed(started):
                self._stop_one(comp)
            raise
        result.seconds = time.monotonic() - t0
        return result

    def _start_one(self, comp: Component, binaries: Binaries, step: Step) -> bool:
        """Ensure one component runs healthy; True when it had to be started."""
        layout = self.layout
        pid_file = layout.pid_file(comp.name)
        probe = comp.probe(layout)
        handle = process.find(pid_file)
        if handle is not None:
            if probe.check():
                step(f"{comp.name} is running (pid {handle.pid})")
                if comp.prepare is not None and comp.reload is not None:
                    comp.prepare(layout)  # the configuration of this version of the toolkit
                    comp.reload(layout)
                return False
            step(f"{comp.name} (pid {handle.pid}) is not healthy: restarting it")
            process.stop(handle, pid_file=pid_file)
        self._check_ports(comp)
        if comp.prepare is not None:
            comp.prepare(layout)
        if comp.name == "kwok":
            release_node_leases(self.api())
        argv = comp.argv(layout, binaries)
        t0 = time.monotonic()
        env = {**os.environ, **comp.env} if comp.env else None
        handle = process.start(argv, log=layout.log(comp.name), pid_file=pid_file, env=env)
        deadline = t0 + comp.start_timeout
        while not probe.check(timeout=1.0):
            if not handle.alive():
                process.stop(handle, pid_file=pid_file)
                raise StartError(
                    f"{comp.name} exited right after starting",
                    hint=f"read its log {layout.log(comp.name)}; `librechat-ops cluster down` "
                    "resets the platform's state",
                    log_tail=process.tail(layout.log(comp.name)),
                )
            if time.monotonic() > deadline:
                process.stop(handle, pid_file=pid_file)
                raise StartError(
                    f"{comp.name} did not become healthy within {comp.start_timeout:.0f} s",
                    hint=f"read its log {layout.log(comp.name)}",
                    log_tail=process.tail(layout.log(comp.name)),
                )
            time.sleep(0.1)
        step(f"{comp.name} started (pid {handle.pid}) in {time.monotonic() - t0:.1f} s")
        return True

    def _check_ports(self, comp: Component) -> None:
        for port in comp.ports:
            if _freed(port, PORT_GRACE):
                continue
            holder = ports.owner_of(port)
            raise PortConflictError(
                f"127.0.0.1:{port}, which {comp.name} needs, is taken by "
                f"{holder or 'another process'}",
                hint=(
                    f"stop that process (kill {holder.split()[1]}) and run `cluster up` again"
                    if holder
                    else "stop the process listening there (`ss -ltnp` shows it) and retry"
                ),
            )

    def _write_kubeconfigs(self) -> None:
        pki = self.layout.pki
        for ident in IDENTITIES:
            path = self.layout.component_kubeconfig(ident.name)
            kubeconfig.write(
                path, server=API_SERVER, ca_file=pki.ca_cert, token=pki.token(ident.name)
            )
        kubeconfig.write(
            self.layout.kubeconfig, server=API_SERVER, ca_file=pki.ca_cert, token=pki.token("admin")
        )

    # ------------------------------------------------------------------ status / down

    def status(self) -> list[ComponentStatus]:
        """Each component's state, pid, ports and log file."""
        rows = []
        for comp in COMPONENTS:
            handle = process.find(self.layout.pid_file(comp.name))
            if handle is None:
                state = "stopped"
            elif self.layout.pki.exists() and comp.probe(self.layout).check():
                state = "running"
            else:
                state = "unhealthy"
            rows.append(
                ComponentStatus(
                    comp.name,
                    state,
                    handle.pid if handle else None,
                    comp.ports,
                    self.layout.log(comp.name),
                )
            )
        return rows

    def down(self, *, keep_data: bool = False) -> list[str]:
        """Stop every component (and any stray process of ours); remove the state unless
        ``keep_data``. Returns the names of what was stopped."""
        stopped = [comp.name for comp in reversed(COMPONENTS) if self._stop_one(comp)]
        for stray in self._strays():
            process.stop(stray)
            stopped.append(f"stray pid {stray.pid}")
        if not keep_data:
            shutil.rmtree(self.layout.root, ignore_errors=True)
        return stopped

    def _stop_one(self, comp: Component) -> bool:
        pid_file = self.layout.pid_file(comp.name)
        handle = process.find(pid_file)
        if handle is None:
            return False
        process.stop(handle, pid_file=pid_file)
        return True

    def _strays(self) -> list[process.Handle]:
        """Processes running our cached binaries, our Prometheus or our Alertmanager whose pid
        files are gone."""
        bin_root = str(self.builder.cache_dir / "bin") + "/"
        configs = (
            str(self.layout.prometheus_dir / "prometheus.yml").encode(),
            str(self.layout.alertmanager_dir / "alertmanager.yml").encode(),
        )
        root = str(self.layout.root).encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            first = argv[0].decode(errors="replace")
            # Ours: a cached binary, Prometheus or Alertmanager, started with this platform's state
            # directory (another platform, with another state directory, is left alone).
            mine = any(root in a for a in argv)
            ours = mine and (
                first.startswith(bin_root) or any(c in a for c in configs for a in argv)
            )
            handle = process.handle_of(int(entry.name)) if ours else None
            if handle is not None and handle.pid != os.getpid():
                found.append(handle)
        return found

    # ------------------------------------------------------------------ access

    def require_running(self) -> None:
        """Raise :class:`NotRunningError` unless the API server answers."""
        api = next(c for c in COMPONENTS if c.name == "kube-apiserver")
        if not self.layout.pki.exists() or not api.probe(self.layout).check():
            raise NotRunningError(
                "the local platform is not running", hint="start it with `librechat-ops cluster up`"
            )

    def api(self) -> KubeApi:
        """An admin client of the platform's API server."""
        pki = self.layout.pki
        return KubeApi(API_SERVER, pki.ca_cert, pki.token("admin"))

    @property
    def versions(self) -> Versions:
        return self.builder.versions

"""The operator as a real process (``kopf run``) against the local platform, with its CRDs."""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from k8s_operator import crds
from k8s_operator.kube import Kube
from localplatform.cluster import LocalPlatform
from tests.conftest import PlatformSession
from tests.prometheus_server import MetricsTarget
from tests.waiting import wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class OperatorProcess:
    """``kopf run -m k8s_operator.handlers`` in a subprocess, restartable and killable."""

    def __init__(
        self,
        kubeconfig: Path,
        log: Path,
        env: dict[str, str] | None = None,
        *,
        elected: bool = False,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.log = log
        self.extra_env = env or {}
        self.elected = elected
        """Run as the Deployment does (``python -m k8s_operator``, with leader election)."""
        self.proc: subprocess.Popen[bytes] | None = None
        self.liveness = 0
        self.metrics_port = 0

    def start(self, *, wait: bool = True) -> None:
        """Start; with ``wait``, until the liveness endpoint answers (failing if it exits)."""
        self.liveness = _free_port()
        self.metrics_port = _free_port()
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "LIBRECHAT_OPERATOR_METRICS_PORT": str(self.metrics_port),
            **self.extra_env,
        }
        liveness = f"--liveness=http://127.0.0.1:{self.liveness}/healthz"
        argv = [
            sys.executable, "-m", "kopf", "run", "-m", "k8s_operator.handlers",
            "--standalone", "--all-namespaces", liveness,
        ]  # fmt: skip
        if self.elected:
            env["LIBRECHAT_OPERATOR_LEADER_ELECTION"] = "true"
            argv = [sys.executable, "-m", "k8s_operator", liveness]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        if wait:
            wait_until(self._alive, 60, "the operator's liveness endpoint")

    def exited(self, timeout: float) -> bool:
        """Whether the process ends within ``timeout`` seconds."""
        assert self.proc is not None
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def _alive(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"the operator exited with {self.proc.returncode}:\n{self.tail()}")
        try:
            url = f"http://127.0.0.1:{self.liveness}/healthz"
            with urllib.request.urlopen(url, timeout=1) as resp:
                return int(resp.status) == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash or an OOM kill."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def metric(self, name: str) -> float:
        """One unlabelled sample from the operator's /metrics."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as resp:
            for line in resp.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
        raise AssertionError(f"the operator serves no {name}")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def kill_component(platform: LocalPlatform, component: str) -> None:
    """SIGKILL one of the local platform's components and wait until it is seen stopped
    (``platform.up`` starts it again)."""
    pid = next(r.pid for r in platform.status() if r.name == component)
    assert pid, f"{component} is not running"
    os.kill(pid, signal.SIGKILL)
    wait_until(
        lambda: next(r.state for r in platform.status() if r.name == component) == "stopped",
        10,
        f"{component} to stop",
    )


def install_crds(kube: Kube) -> None:
    for crd in crds.definitions():
        kube.apply(crd)

    def established() -> bool:
        for crd in crds.definitions():
            live = kube.get("CustomResourceDefinition", None, crd["metadata"]["name"]) or {}
            conditions = (live.get("status") or {}).get("conditions") or []
            if not any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                return False
        return True

    wait_until(established, 30, "the CRDs to be established")


@pytest.fixture(scope="module")
def kube(platform_session: PlatformSession) -> Kube:
    platform: LocalPlatform = platform_session.platform
    platform.up(3)
    client = Kube.connect(field_manager="pytest", kubeconfig=str(platform.layout.kubeconfig))
    install_crds(client)
    return client


@pytest.fixture(scope="module")
def operator(
    kube: Kube, platform_session: PlatformSession, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    proc = OperatorProcess(platform_session.platform.layout.kubeconfig, log)
    proc.start()
    yield proc
    proc.stop()


class Gauge:
    """A requests-per-second gauge served over HTTP for Prometheus to scrape, labelled with the
    test's namespace: each test's autoscaler reads its own series, never the history an earlier
    test left in Prometheus under the same name."""

    def __init__(self, namespace: str) -> None:
        self.value = 0.0
        self.labels = f'service="gw",test_namespace="{namespace}"'
        self.target = MetricsTarget(self.exposition)

    def exposition(self, _: float) -> str:
        """What a scrape reads now."""
        value = "NaN" if math.isnan(self.value) else str(self.value)
        return f"librechat_test_rps{{{self.labels}}} {value}\n"


@pytest.fixture
def gauge(platform_session: PlatformSession, namespace: str) -> Iterator[Gauge]:
    gauge = Gauge(namespace)
    targets = platform_session.platform.layout.prometheus_targets
    target = targets / "pytest-autoscaler.json"
    with gauge.target:
        target.write_text(json.dumps([{"targets": [gauge.target.address]}]))
        yield gauge
        target.unlink()


def autoscaler_resources(namespace: str, mode: str) -> list[dict[str, Any]]:
    """A LibreChatService ``gw`` and a PredictiveAutoscaler on it reading the :class:`Gauge` of
    the test that uses ``namespace``."""
    return [
        {
            "apiVersion": crds.API_VERSION,
            "kind": "LibreChatService",
            "metadata": {"name": "gw", "namespace": namespace},
            "spec": {
                "image": "ghcr.io/berriai/litellm-non_root:v1.108.7",
                "minReplicas": 2,
                "maxReplicas": 40,
            },
        },
        {
            "apiVersion": crds.API_VERSION,
            "kind": "PredictiveAutoscaler",
            "metadata": {"name": "gw", "namespace": namespace},
            "spec": {
                "targetRef": {"name": "gw"},
                "query": f'sum(librechat_test_rps{{service="gw",test_namespace="{namespace}"}})',
                "podCapacity": 10,
                "intervalSeconds": 5,
                "startupDelaySeconds": 10,
                "horizonMinutes": 5,
                "mode": mode,
                "behavior": {"scaleDownStabilizationSeconds": 10},
            },
        },
    ]

"""The operator cut off from the API server for 30 s while it reconciles 50 services: a Toxiproxy
link between them is disabled (open connections dropped, new ones refused), and services keep
being created meanwhile. It ends converged: every service Ready, every child exactly once, and the
services whose handlers failed at the cut say so in status and events.

Its own module: no other operator may run meanwhile (the other modules' operator fixtures would
reconcile the services while this one cannot).
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from k8s_operator.kube import Kube
from localplatform import kubeconfig, ports
from tests.conftest import PlatformSession
from tests.k8s_operator.conftest import OperatorProcess
from tests.k8s_operator.test_control_plane_faults import (
    SERVICES,
    assert_converged,
    assert_reported,
    create,
)
from tests.prometheus_server import free_port
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CUT_S = 30.0


@pytest.fixture
def link(toxiproxy_server: Path, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """Toxiproxy on loopback with a proxy ``apiserver`` in front of kube-apiserver: (its API
    URL, the proxy's port)."""
    api_port, listen = free_port(), free_port()
    log = (tmp_path / "toxiproxy.log").open("wb")
    proc = subprocess.Popen(
        [str(toxiproxy_server), "-host", "127.0.0.1", "-port", str(api_port)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    api = f"http://127.0.0.1:{api_port}"
    try:
        wait_until(lambda: _toxiproxy(api, "GET", "/version") is not None, 20, "Toxiproxy")
        _toxiproxy(
            api, "POST", "/proxies",
            {"name": "apiserver", "listen": f"127.0.0.1:{listen}",
             "upstream": f"127.0.0.1:{ports.KUBE_APISERVER}", "enabled": True},
        )  # fmt: skip
        yield api, listen
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _toxiproxy(api: str, method: str, path: str, body: object | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(api + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return None
    return json.loads(text) if text.startswith(("{", "[")) else text


def test_an_operator_cut_off_from_the_api_server_for_30_s_converges(
    kube: Kube,
    platform_session: PlatformSession,
    link: tuple[str, int],
    namespace: str,
    tmp_path: Path,
) -> None:
    platform = platform_session.platform
    api, port = link
    through = tmp_path / "through-toxiproxy.kubeconfig"
    kubeconfig.write(
        through,
        server=f"https://127.0.0.1:{port}",
        ca_file=platform.layout.pki.ca_cert,
        token=platform.layout.pki.token("admin"),
    )
    proc = OperatorProcess(through, tmp_path / "operator.log")
    proc.start()
    try:
        create(kube, namespace, range(SERVICES // 2))
        wait_until(lambda: len(kube.list("Deployment", namespace)) >= 5, 60, "5 Deployments")
        assert _toxiproxy(api, "POST", "/proxies/apiserver", {"enabled": False})
        cut = time.monotonic()
        time.sleep(1.0)  # a write in flight at the cut lands now or never
        at_cut = len(kube.list("Deployment", namespace))
        create(kube, namespace, range(SERVICES // 2, SERVICES))  # while it cannot hear
        time.sleep(max(0.0, CUT_S - (time.monotonic() - cut)))
        made = len(kube.list("Deployment", namespace))
        assert _toxiproxy(api, "POST", "/proxies/apiserver", {"enabled": True})
        print(
            f"\ncut off for {time.monotonic() - cut:.0f} s: {at_cut}/{SERVICES} Deployments at "
            f"the cut, {made} at its end"
        )
        assert made == at_cut, "the operator wrote while cut off: the cut is not real"
        assert_converged(kube, namespace)
        log = proc.log.read_text(errors="replace")
        assert "failed temporarily" in log, "no handler was in flight at the cut"
        assert_reported(kube, namespace, log)
        assert proc.proc is not None
        assert proc.proc.poll() is None, "the operator died while cut off"
    finally:
        proc.stop()

"""The platform's processes: how each one is started and how its health is probed.

Order matters: each component needs the ones before it. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import ports
from .build import Binaries
from .health import Probe
from .layout import Layout

SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
"""kwok manages the nodes carrying this annotation (value ``fake``), and no others."""


@dataclass(frozen=True)
class Component:
    """One process of the platform."""

    name: str
    ports: tuple[int, ...]
    argv: Callable[[Layout, Binaries], list[str]]
    probe: Callable[[Layout], Probe]
    start_timeout: float = 30.0
    """Seconds to wait for the probe to pass after starting."""
    prepare: Callable[[Layout], None] | None = None
    """Writes the configuration files the process reads, before each start."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Environment added to the process's (the Go runtime's memory settings)."""
    reload: Callable[[Layout], None] | None = None
    """Makes a running process reread what ``prepare`` wrote (``POST /-/reload``), so a process
    that is reused runs the current configuration, not the one it was started with."""


def _go_memory(soft_limit: str) -> dict[str, str]:
    """Go's collector for a busy 2-core laptop: collect when the heap has grown to 5 times what
    survived the last collection instead of twice, with a soft limit that brings collection back
    before memory runs away. Under a burst of writes the API server spent about a third of its CPU
    collecting; this trades some memory (only under load) for it."""
    return {"GOGC": "400", "GOMEMLIMIT": soft_limit}


def _url(port: int, path: str, *, tls: bool = False) -> str:
    return f"{'https' if tls else 'http'}://{ports.LOOPBACK}:{port}{path}"


def _etcd(layout: Layout, b: Binaries) -> list[str]:
    client = _url(ports.ETCD_CLIENT, "")
    peer = _url(ports.ETCD_PEER, "")
    return [
        str(b.etcd),
        "--name=local",
        f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=local={peer}",
        "--listen-metrics-urls=",
        "--unsafe-no-fsync",  # a disposable laptop platform: speed over crash durability
        "--quota-backend-bytes=4294967296",
    ]


def _apiserver(layout: Layout, b: Binaries) -> list[str]:
    pki = layout.pki
    return [
        str(b.kube_apiserver),
        f"--etcd-servers={_url(ports.ETCD_CLIENT, '')}",
        f"--bind-address={ports.LOOPBACK}",
        f"--advertise-address={ports.LOOPBACK}",
        f"--secure-port={ports.KUBE_APISERVER}",
        f"--tls-cert-file={pki.serving_cert}",
        f"--tls-private-key-file={pki.serving_key}",
        f"--token-auth-file={pki.token_file}",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction,PodSecurity",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki.sa_pub}",
        f"--service-account-signing-key-file={pki.sa_key}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--allow-privileged=true",
        "--profiling=false",
        "--max-requests-inflight=800",
        "--max-mutating-requests-inflight=400",
        # Who wrote what, when: each write's user and time (tests show single writers with it).
        f"--audit-policy-file={layout.audit_policy}",
        f"--audit-log-path={layout.audit_log}",
        "--audit-log-format=json",
        "--audit-log-maxsize=200",
        "--audit-log-maxbackup=1",
    ]


AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
"""
"""Metadata (user, verb, object, time; no bodies) of every write; reads are not logged."""


def _secure_serving(layout: Layout, identity: str, port: int) -> list[str]:
    """How a controller serves /healthz and /metrics: on loopback with the platform's serving
    certificate, delegating authentication and authorization to the API server as itself."""
    kubeconfig = layout.component_kubeconfig(identity)
    return [
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        f"--bind-address={ports.LOOPBACK}",
        f"--secure-port={port}",
        f"--tls-cert-file={layout.pki.serving_cert}",
        f"--tls-private-key-file={layout.pki.serving_key}",
        "--profiling=false",
    ]


def _controller_manager(layout: Layout, b: Binaries) -> list[str]:
    pki = layout.pki
    return [
        str(b.kube_controller_manager),
        f"--kubeconfig={layout.component_kubeconfig('kube-controller-manager')}",
        *_secure_serving(layout, "kube-controller-manager", ports.KUBE_CONTROLLER_MANAGER),
        "--leader-elect=false",
        f"--service-account-private-key-file={pki.sa_key}",
        f"--root-ca-file={pki.ca_cert}",
        "--use-service-account-credentials=true",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--kube-api-qps=200",
        "--kube-api-burst=400",
        "--concurrent-deployment-syncs=20",
        "--concurrent-replicaset-syncs=20",
        # Endpoints are deprecated (since 1.33) for EndpointSlices, which is what kube-proxy and
        # DNS read; the legacy controller and its mirror doubled every Service's writes.
        "--controllers=*,-endpoints-controller,-endpointslice-mirroring-controller",
    ]


def _scheduler_config(layout: Layout) -> Path:
    return layout.root / "kube-scheduler.yaml"


def _write_scheduler_config(layout: Layout) -> None:
    config = {
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "clientConnection": {
            "kubeconfig": str(layout.component_kubeconfig("kube-scheduler")),
            "qps": 200,
            "burst": 400,
        },
        "leaderElection": {"leaderElect": False},
    }
    _scheduler_config(layout).write_text(yaml.safe_dump(config, sort_keys=False))


def _scheduler(layout: Layout, b: Binaries) -> list[str]:
    return [
        str(b.kube_scheduler),
        f"--config={_scheduler_config(layout)}",
        *_secure_serving(layout, "kube-scheduler", ports.KUBE_SCHEDULER),
        # Preemption's deletions in the scheduling cycle, as before 1.33. Asynchronous preemption
        # (beta, on by default) can strand a preemptor: when two pending pods pick the same
        # victim, the second finds it already deleted, its own deletion event arrived while its
        # PreEnqueue gate was still shut, and nothing requeues it until the unschedulable pool's
        # 5-minute flush (executor.go in 1.36.3 and 1.37.2 activates the preemptor only after
        # an error or an in-memory preemption). Seen in CI: two service pods nominated to a node
        # with room for both, pending for 120 s after their victims were gone.
        "--feature-gates=SchedulerAsyncPreemption=false",
    ]


def _kwok(layout: Layout, b: Binaries) -> list[str]:
    return [
        str(b.kwok),
        f"--kubeconfig={layout.component_kubeconfig('kwok')}",
        f"--config={b.kwok_stages}",
        "--manage-all-nodes=false",
        f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
        f"--cidr={POD_CIDR}",
        "--node-ip=10.0.0.1",
        "--node-lease-duration-seconds=40",
        f"--server-address={ports.LOOPBACK}:{ports.KWOK}",
    ]


def _https_probe(port: int, path: str, layout: Layout, token: str | None = None) -> Probe:
    return Probe(_url(port, path, tls=True), ca_file=layout.pki.ca_cert, token=token)


CONTROL_PLANE: tuple[Component, ...] = (
    Component(
        "etcd",
        (ports.ETCD_CLIENT, ports.ETCD_PEER),
        _etcd,
        lambda layout: Probe(_url(ports.ETCD_CLIENT, "/health")),
        start_timeout=30,
        env=_go_memory("1GiB"),
    ),
    Component(
        "kube-apiserver",
        (ports.KUBE_APISERVER,),
        _apiserver,
        lambda layout: _https_probe(
            ports.KUBE_APISERVER, "/readyz", layout, layout.pki.token("admin")
        ),
        start_timeout=90,
        env=_go_memory("2GiB"),
    ),
    Component(
        "kube-controller-manager",
        (ports.KUBE_CONTROLLER_MANAGER,),
        _controller_manager,
        lambda layout: _https_probe(ports.KUBE_CONTROLLER_MANAGER, "/healthz", layout),
        env=_go_memory("1GiB"),
    ),
    Component(
        "kube-scheduler",
        (ports.KUBE_SCHEDULER,),
        _scheduler,
        lambda layout: _https_probe(ports.KUBE_SCHEDULER, "/healthz", layout),
        prepare=_write_scheduler_config,
        env=_go_memory("512MiB"),
    ),
    Component(
        "kwok",
        (ports.KWOK,),
        _kwok,
        lambda layout: Probe(_url(ports.KWOK, "/healthz")),
    ),
)
"""The Kubernetes side, in start order; Alertmanager and Prometheus follow
(:data:`localplatform.cluster.COMPONENTS`)."""

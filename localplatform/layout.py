"""Where one local platform keeps its state: data, certificates, logs, pid files, kubeconfigs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .pki import Pki


@dataclass(frozen=True)
class Layout:
    """Paths under the platform's state directory (``<state>/cluster``)."""

    root: Path

    @property
    def pki(self) -> Pki:
        return Pki(self.root / "pki")

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd-data"

    @property
    def prometheus_dir(self) -> Path:
        return self.root / "prometheus"

    @property
    def prometheus_targets(self) -> Path:
        """Drop ``<name>.json`` file_sd target lists here; Prometheus picks them up."""
        return self.prometheus_dir / "targets"

    @property
    def prometheus_rules(self) -> Path:
        """Rule files (``<name>.yml``) Prometheus loads, at start and on each reload."""
        return self.prometheus_dir / "rules"

    @property
    def alertmanager_dir(self) -> Path:
        """Alertmanager's configuration and its data (silences, notification log)."""
        return self.root / "alertmanager"

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig the user exports as ``KUBECONFIG``."""
        return self.root / "kubeconfig"

    def component_kubeconfig(self, identity: str) -> Path:
        return self.root / "kubeconfigs" / f"{identity}.yaml"

    @property
    def audit_policy(self) -> Path:
        """The API server's audit policy (written at each start)."""
        return self.root / "audit-policy.yaml"

    @property
    def audit_log(self) -> Path:
        """The API server's audit log: one JSON line per write request, with who made it."""
        return self.log("audit")

    def log(self, component: str) -> Path:
        return self.root / "logs" / f"{component}.log"

    def pid_file(self, component: str) -> Path:
        return self.root / "run" / f"{component}.pid"

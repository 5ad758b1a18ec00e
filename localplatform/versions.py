"""The pinned versions of the local platform's components, in one place.

Kubernetes 1.36 with its etcd 3.6 and kwok 0.8 (which is itself built against 1.36). Changing a
version here changes the cache key, so the next ``cluster build`` builds it anew beside the old.
"""

from __future__ import annotations

from dataclasses import dataclass

RECIPE = 2
"""Bumped when the way binaries are built changes, so stale builds are not reused."""


@dataclass(frozen=True)
class Versions:
    """The versions that make up one local platform."""

    kubernetes: str = "v1.36.3"
    """k8s.io/kubernetes, for kube-apiserver, kube-controller-manager and kube-scheduler."""
    etcd: str = "v3.6.16"
    """go.etcd.io/etcd/server/v3."""
    kwok: str = "v0.8.0"
    """sigs.k8s.io/kwok, which simulates nodes and pod status."""

    @property
    def staging(self) -> str:
        """The k8s.io staging modules' version matching :attr:`kubernetes` (v1.X.Y → v0.X.Y)."""
        return "v0." + self.kubernetes.removeprefix("v1.")

    @property
    def kubernetes_minor(self) -> str:
        """``"36"`` for v1.36.3."""
        return self.kubernetes.split(".")[1]

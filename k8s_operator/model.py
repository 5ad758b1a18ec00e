"""Typed views of the custom resources' specs (defaults applied by the API server's schema)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SecretKey:
    """One key of one Secret."""

    name: str
    key: str


@dataclass(frozen=True)
class ServiceSpec:
    """A ``LibreChatService`` resource: one service of the platform."""

    name: str
    namespace: str
    uid: str
    image: str
    port: int = 8080
    tier: int = 2
    min_replicas: int = 1
    max_replicas: int = 10
    replicas: int | None = None
    """What the scale subresource (the autoscaler, or a person) asked for."""
    resources: Mapping[str, Any] = field(default_factory=dict)
    probe_path: str = "/health"
    probe_period: int = 10
    config: Mapping[str, str] = field(default_factory=dict)
    env_from_secret: str | None = None
    secret_env: tuple[tuple[str, SecretKey], ...] = ()
    public: bool = False
    platform: str | None = None
    args: tuple[str, ...] = ()
    """Arguments after the image's entrypoint."""
    writable_paths: tuple[str, ...] = ()
    """Directories besides /tmp the process writes (empty directories)."""
    config_maps: tuple[tuple[str, str], ...] = ()
    """(ConfigMap, mount path) pairs mounted read-only."""
    service_account_annotations: Mapping[str, str] = field(default_factory=dict)
    """Annotations of the ServiceAccount (IRSA's role)."""
    egress: tuple[tuple[int, str | None], ...] = ()
    """(port, namespace) connections the pods may open; namespace None: outside the cluster."""
    node_selector: Mapping[str, str] = field(default_factory=dict)
    """Node labels the pods must carry."""
    tolerations: tuple[Mapping[str, Any], ...] = ()
    """Taints the pods tolerate (as in a pod spec)."""

    @property
    def desired_replicas(self) -> int:
        """The replicas to run: what was asked for, within [min, max] (min when nothing asked)."""
        wanted = self.min_replicas if self.replicas is None else self.replicas
        return max(self.min_replicas, min(self.max_replicas, wanted))

    @classmethod
    def from_resource(cls, body: Mapping[str, Any]) -> ServiceSpec:
        """Read a resource as the API server returns it."""
        meta, spec = body["metadata"], body["spec"]
        probe = spec.get("probe") or {}
        return cls(
            name=meta["name"],
            namespace=meta["namespace"],
            uid=meta["uid"],
            image=spec["image"],
            port=int(spec.get("port", 8080)),
            tier=int(spec.get("tier", 2)),
            min_replicas=int(spec.get("minReplicas", 1)),
            max_replicas=int(spec.get("maxReplicas", 10)),
            replicas=None if spec.get("replicas") is None else int(spec["replicas"]),
            resources=spec.get("resources") or {},
            probe_path=probe.get("path", "/health"),
            probe_period=int(probe.get("periodSeconds", 10)),
            config=dict(spec.get("config") or {}),
            env_from_secret=spec.get("envFromSecret"),
            secret_env=tuple(
                (e["name"], SecretKey(e["secretRef"]["name"], e["secretRef"]["key"]))
                for e in spec.get("secretEnv") or []
            ),
            public=bool(spec.get("public", False)),
            platform=spec.get("platform"),
            args=tuple(spec.get("args") or ()),
            writable_paths=tuple(spec.get("writablePaths") or ()),
            config_maps=tuple((m["name"], m["mountPath"]) for m in spec.get("configMaps") or []),
            service_account_annotations=dict(spec.get("serviceAccountAnnotations") or {}),
            egress=tuple((int(e["port"]), e.get("namespace")) for e in spec.get("egress") or []),
            node_selector=dict(spec.get("nodeSelector") or {}),
            tolerations=tuple(dict(t) for t in spec.get("tolerations") or ()),
        )

    def placement(self) -> dict[str, Any]:
        """The pod spec's ``nodeSelector`` and ``tolerations`` (only those set): where the
        service's pods, and any headroom kept for them, may run."""
        out: dict[str, Any] = {}
        if self.node_selector:
            out["nodeSelector"] = dict(self.node_selector)
        if self.tolerations:
            out["tolerations"] = [dict(t) for t in self.tolerations]
        return out

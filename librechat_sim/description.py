"""The running simulator's description, ``<state>/sim/cluster.json``: the one reader and writer.

``Cluster.up`` writes it; ``sim status``/``sim down``, the load tests and the chaos extension read
it; a chaos action that starts a process again records the new pid here, so ``sim down`` stops it
like the others. Writes are atomic (a temporary file renamed over the old one).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .config import SimConfig
from .errors import NotRunningError, ProcessNotFoundError
from .paths import cluster_file
from .processes import Child


@dataclass(frozen=True)
class ClusterInfo:
    """A running simulator, as written to ``cluster.json``."""

    url: str
    """The front URL (haproxy)."""

    config: SimConfig
    """The settings with every port resolved."""

    replica_ports: tuple[int, ...]
    """One port per replica, in order r1, r2..."""

    children: tuple[Child, ...]
    """Every process, in start order."""

    def child(self, name: str) -> Child:
        """The process called ``name`` (``redis``, ``llm``, ``r1``.., ``haproxy``)."""
        for child in self.children:
            if child.name == name:
                return child
        known = ", ".join(c.name for c in self.children)
        raise ProcessNotFoundError(f"the simulator has no process {name!r}", hint=f"one of {known}")

    def replicas(self, region: str | None = None) -> list[Child]:
        """The API replicas (of ``region`` only, when given)."""
        found = [c for c in self.children if c.replica and region in (None, c.region)]
        if region is not None and not found:
            raise ProcessNotFoundError(
                f"the simulator has no replica in region {region!r}",
                hint="start it with two regions: `librechat-ops sim up --regions 2`",
            )
        return found

    def with_child(self, new: Child) -> ClusterInfo:
        """A copy where ``new`` replaces the process of the same name."""
        children = tuple(new if c.name == new.name else c for c in self.children)
        return replace(self, children=children)

    def to_json(self) -> str:
        """Serialise to ``cluster.json``."""
        children = [asdict(c) | {"log": str(c.log)} for c in self.children]
        data = {
            "url": self.url,
            "config": json.loads(self.config.to_json()),
            "replica_ports": list(self.replica_ports),
            "children": children,
        }
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> ClusterInfo:
        """Read what :meth:`to_json` wrote."""
        data = json.loads(text)
        children = tuple(
            Child(
                c["name"],
                int(c["pid"]),
                int(c["started"]),
                Path(c["log"]),
                tuple(c.get("argv", ())),
                c.get("region", ""),
            )
            for c in data["children"]
        )
        config = SimConfig.from_json(json.dumps(data["config"]))
        return cls(data["url"], config, tuple(data["replica_ports"]), children)


def load(state_dir: Path) -> ClusterInfo:
    """The simulator described under ``state_dir``."""
    path = cluster_file(state_dir)
    try:
        return ClusterInfo.from_json(path.read_text())
    except FileNotFoundError:
        raise NotRunningError(
            f"no simulator is running (nothing recorded in {path})",
            hint="start one with `librechat-ops sim up`, or set LIBRECHAT_OPS_STATE",
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise NotRunningError(f"{path} is damaged: {exc}", hint=f"remove {path}") from None


def save(state_dir: Path, info: ClusterInfo) -> None:
    """Write ``info`` as the simulator's description (atomically)."""
    path = cluster_file(state_dir)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(info.to_json())
    tmp.replace(path)


def record_restart(state_dir: Path, new: Child) -> None:
    """Record ``new`` (a process started again) in place of the process of the same name."""
    save(state_dir, load(state_dir).with_child(new))


def forget(state_dir: Path) -> None:
    """Remove the description (the simulator was stopped)."""
    cluster_file(state_dir).unlink(missing_ok=True)

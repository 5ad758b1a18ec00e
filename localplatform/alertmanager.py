"""The platform's Alertmanager (Debian ``prometheus-alertmanager``): its configuration, its place
among the components, and a reader of the alerts it holds.

The platform's Prometheus sends it every alert its rules fire (:mod:`localplatform.prometheus`).
One route sends everything to the receiver ``null``, which has no integration and notifies no one:
a laptop has no pager, and a receiver that needs a URL would need a placeholder. Tools read the
alerts instead, through Alertmanager's API (``GET /api/v2/alerts``, :func:`alerts`). It runs as a
single instance: ``--cluster.listen-address=`` (empty) turns off the gossip used for high
availability, so nothing listens on 9094 (Alertmanager's ``--help``: "Set to empty string to
disable HA mode"). Its management API (``/-/ready``, ``POST /-/reload``) is in Alertmanager's
``docs/management_api.md``.
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from . import lifecycle, ports
from .build import Binaries
from .components import Component
from .errors import NotRunningError, StartError
from .health import Probe
from .layout import Layout

BINARY = "prometheus-alertmanager"
"""Debian's name for the ``alertmanager`` executable (package ``prometheus-alertmanager``)."""

RECEIVER = "null"
"""The one receiver: no integration, so an alert is held and listed, never sent anywhere."""

GROUP_BY = ("alertname", "slo_env", "slo_journey", "slo_objective")
"""Alerts sharing these labels form one notification group (the SLO rules' labels)."""


def url() -> str:
    """Base URL of the platform's Alertmanager."""
    return f"http://{ports.LOOPBACK}:{ports.ALERTMANAGER}"


def address() -> str:
    """``host:port`` of the platform's Alertmanager, as Prometheus's ``alertmanagers`` list it."""
    return f"{ports.LOOPBACK}:{ports.ALERTMANAGER}"


def config() -> dict[str, object]:
    """Alertmanager's configuration: one route to the ``null`` receiver."""
    return {
        "route": {
            "receiver": RECEIVER,
            "group_by": list(GROUP_BY),
            "group_wait": "5s",
            "group_interval": "1m",
            "repeat_interval": "4h",
        },
        "receivers": [{"name": RECEIVER}],
    }


def _config_file(layout: Layout) -> str:
    return str(layout.alertmanager_dir / "alertmanager.yml")


def _prepare(layout: Layout) -> None:
    (layout.alertmanager_dir / "data").mkdir(parents=True, exist_ok=True)
    (layout.alertmanager_dir / "alertmanager.yml").write_text(
        yaml.safe_dump(config(), sort_keys=False)
    )


def _argv(layout: Layout, _binaries: Binaries) -> list[str]:
    binary = shutil.which(BINARY)
    if binary is None:
        raise StartError(
            f"`{BINARY}` is not on PATH",
            hint=f"apt-get install -y {BINARY} (the Debian package), then run `cluster up` again",
        )
    return [
        binary,
        f"--config.file={_config_file(layout)}",
        f"--storage.path={layout.alertmanager_dir / 'data'}",
        f"--web.listen-address={address()}",
        f"--web.external-url={url()}",
        "--cluster.listen-address=",
    ]


def _reload(layout: Layout) -> None:
    lifecycle.reload(url(), "Alertmanager")


ALERTMANAGER = Component(
    "alertmanager",
    (ports.ALERTMANAGER,),
    _argv,
    lambda layout: Probe(f"{url()}/-/ready"),
    start_timeout=30,
    prepare=_prepare,
    reload=_reload,
)


@dataclass(frozen=True)
class Alert:
    """One alert Alertmanager holds (an element of ``GET /api/v2/alerts``)."""

    name: str
    """The ``alertname`` label."""
    labels: Mapping[str, str]
    """Every label, ``alertname`` included."""
    state: str
    """``active``, ``suppressed`` (silenced or inhibited) or ``unprocessed``."""
    starts_at: datetime
    """When Prometheus first saw it fire."""
    ends_at: datetime
    """When it resolves unless Prometheus sends it again (in the past: resolved)."""
    annotations: Mapping[str, str] = field(default_factory=dict)
    """The rule's annotations (``summary``, ``description``)."""
    receivers: tuple[str, ...] = ()
    """The receivers its route chose."""


def _parse(item: dict[str, Any]) -> Alert:
    labels = {str(k): str(v) for k, v in (item.get("labels") or {}).items()}
    return Alert(
        name=labels.get("alertname", ""),
        labels=labels,
        state=str((item.get("status") or {}).get("state", "")),
        starts_at=datetime.fromisoformat(str(item["startsAt"])),
        ends_at=datetime.fromisoformat(str(item["endsAt"])),
        annotations={str(k): str(v) for k, v in (item.get("annotations") or {}).items()},
        receivers=tuple(str(r.get("name", "")) for r in item.get("receivers") or []),
    )


def alerts(
    matchers: Sequence[str] = (), *, base_url: str | None = None, timeout: float = 5.0
) -> list[Alert]:
    """The alerts Alertmanager holds now, those matching every matcher (``alertname="X"``,
    ``slo_env=~"lap.*"``, Alertmanager's ``filter`` syntax) when given.

    Raises :class:`NotRunningError` when Alertmanager does not answer, ``ValueError`` when it
    refuses a matcher.
    """
    query = urllib.parse.urlencode([("filter", m) for m in matchers])
    target = f"{base_url or url()}/api/v2/alerts" + (f"?{query}" if query else "")
    try:
        with urllib.request.urlopen(target, timeout=timeout) as response:
            items = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        reason = exc.read().decode(errors="replace").strip()
        raise ValueError(f"Alertmanager refused the matchers {list(matchers)}: {reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise NotRunningError(
            f"Alertmanager does not answer at {base_url or url()}: {exc}",
            hint="start the local platform: `librechat-ops cluster up`",
        ) from None
    return [_parse(item) for item in items]

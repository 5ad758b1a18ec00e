"""The platform's Prometheus (Debian package): its configuration and its place among the components.

It scrapes itself, the API server and kwok, and every target list dropped into
``<state>/cluster/prometheus/targets/*.json`` (Prometheus file service discovery), which is how the
operator and the local services make themselves known without a restart
(:func:`register_targets` and :func:`unregister_targets` write and remove such a list). The
remote-write receiver is on, so tests and tools can push series.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from . import ports
from .build import Binaries
from .components import Component
from .errors import StartError
from .health import Probe
from .layout import Layout

SCRAPE_INTERVAL = "5s"
"""Short, for a laptop: the autoscaler and the tests see changes within seconds."""


def url() -> str:
    """Base URL of the platform's Prometheus."""
    return f"http://{ports.LOOPBACK}:{ports.PROMETHEUS}"


def config(layout: Layout) -> dict[str, object]:
    """The scrape configuration (a pure function of the layout)."""
    pki = layout.pki
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "scrape_configs": [
            {
                "job_name": "prometheus",
                "static_configs": [{"targets": [f"{ports.LOOPBACK}:{ports.PROMETHEUS}"]}],
            },
            {
                "job_name": "kube-apiserver",
                "scheme": "https",
                "tls_config": {"ca_file": str(pki.ca_cert)},
                "authorization": {"credentials_file": str(_token_file(layout))},
                "static_configs": [{"targets": [f"{ports.LOOPBACK}:{ports.KUBE_APISERVER}"]}],
            },
            {
                "job_name": "kwok",
                "static_configs": [{"targets": [f"{ports.LOOPBACK}:{ports.KWOK}"]}],
            },
            {
                "job_name": "local-services",
                "file_sd_configs": [
                    {"files": [str(layout.prometheus_targets / "*.json")], "refresh_interval": "5s"}
                ],
            },
        ],
    }


_JOB_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_TARGET = re.compile(r"^[^\s/:]+:[0-9]{1,5}$")


def _targets_dir(where: Layout | Path) -> Path:
    """``where`` is a :class:`Layout` or the toolkit's state directory (``Settings.state_dir``)."""
    layout = where if isinstance(where, Layout) else Layout(where / "cluster")
    return layout.prometheus_targets


def register_targets(
    where: Layout | Path,
    job: str,
    targets: Sequence[str],
    labels: Mapping[str, str] | None = None,
) -> Path:
    """Make Prometheus scrape ``targets`` (``host:port``, ``/metrics``) under the label ``job``.

    Writes ``<targets dir>/<job>.json`` atomically (a file_sd list; Prometheus rereads it within
    5 s), replacing an earlier list of the same job. ``where`` is the platform's :class:`Layout`
    or the toolkit's state directory. Returns the file written.
    """
    if not _JOB_NAME.match(job):
        raise ValueError(f"job {job!r} must be letters, digits, '_', '.' or '-'")
    bad = [t for t in targets if not _TARGET.match(t)]
    if bad or not targets:
        raise ValueError(f"targets must be a non-empty list of host:port, got {list(targets)}")
    directory = _targets_dir(where)
    directory.mkdir(parents=True, exist_ok=True)
    entry = [{"targets": list(targets), "labels": {**(labels or {}), "job": job}}]
    final = directory / f"{job}.json"
    partial = directory / f".{job}.json.partial"  # outside the *.json glob until renamed
    partial.write_text(json.dumps(entry, indent=2))
    os.replace(partial, final)
    return final


def unregister_targets(where: Layout | Path, job: str) -> bool:
    """Stop scraping what :func:`register_targets` registered for ``job``; False if nothing was."""
    try:
        (_targets_dir(where) / f"{job}.json").unlink()
    except FileNotFoundError:
        return False
    return True


def _token_file(layout: Layout) -> Path:
    return layout.prometheus_dir / "scrape.token"


def _prepare(layout: Layout) -> None:
    layout.prometheus_targets.mkdir(parents=True, exist_ok=True)
    token = _token_file(layout)
    token.write_text(layout.pki.token("prometheus"))
    token.chmod(0o600)
    (layout.prometheus_dir / "prometheus.yml").write_text(
        yaml.safe_dump(config(layout), sort_keys=False)
    )


def _argv(layout: Layout, _binaries: Binaries) -> list[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        raise StartError(
            "`prometheus` is not on PATH",
            hint="apt-get install -y prometheus (the Debian package), then run `cluster up` again",
        )
    return [
        binary,
        f"--config.file={layout.prometheus_dir / 'prometheus.yml'}",
        f"--storage.tsdb.path={layout.prometheus_dir / 'data'}",
        f"--web.listen-address={ports.LOOPBACK}:{ports.PROMETHEUS}",
        "--web.enable-lifecycle",
        "--web.enable-remote-write-receiver",
        "--storage.tsdb.retention.time=15d",
    ]


PROMETHEUS = Component(
    "prometheus",
    (ports.PROMETHEUS,),
    _argv,
    lambda layout: Probe(f"{url()}/-/ready"),
    start_timeout=30,
    prepare=_prepare,
)

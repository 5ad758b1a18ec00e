"""The platform's Prometheus (Debian package): its configuration and its place among the components.

It scrapes itself, Alertmanager, the API server and kwok, and every target list dropped into
``<state>/cluster/prometheus/targets/*.json`` (Prometheus file service discovery), which is how the
operator and the local services make themselves known without a restart
(:func:`register_targets` and :func:`unregister_targets` write and remove such a list; a list
whose targets want a bearer token is a scrape job of its own, in ``prometheus.yml``). It
evaluates every rule file in ``<state>/cluster/prometheus/rules/*.yml`` and sends the alerts they
fire to the platform's Alertmanager; :func:`install_rules` checks a rule file with promtool, puts
it there and makes Prometheus reload (the lifecycle API is on), :func:`uninstall_rules` takes it
away. The remote-write receiver is on, so tests and tools can push series.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from . import alertmanager, lifecycle, ports, process
from .build import Binaries
from .components import Component
from .errors import NotRunningError, ReloadError, RulesError, StartError
from .health import Probe
from .layout import Layout

SCRAPE_INTERVAL = "5s"
"""Short, for a laptop: the autoscaler and the tests see changes within seconds."""

RESEND_DELAY = "5s"
"""How soon Prometheus sends a firing alert to Alertmanager again (its default: 1 min). For a few
seconds after a start or a reload, Prometheus knows no Alertmanager yet and drops what fires
(``prometheus_notifications_dropped_total``; prometheus/prometheus#13064, seen here with 2.42:
about 5 s after a start, 2 s after a reload); installing a rule file reloads, so an alert that
fires at once would otherwise reach Alertmanager a minute late."""

PROMETHEUS_NAME = "prometheus"
"""The component's name (its pid file and log are named after it)."""

RULES_SUFFIX = ".yml"
"""Prometheus loads the files of the rules directory that end so (``rule_files`` is a glob)."""


def url() -> str:
    """Base URL of the platform's Prometheus."""
    return f"http://{ports.LOOPBACK}:{ports.PROMETHEUS}"


def config(layout: Layout) -> dict[str, object]:
    """The configuration: what to scrape, which rules to evaluate, where alerts go (a function of
    the layout and of the targets registered with a bearer token, each a scrape job of its own)."""
    pki = layout.pki
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "rule_files": [str(layout.prometheus_rules / f"*{RULES_SUFFIX}")],
        "alerting": {
            "alertmanagers": [
                {"api_version": "v2", "static_configs": [{"targets": [alertmanager.address()]}]}
            ]
        },
        "scrape_configs": [
            {
                "job_name": "prometheus",
                "static_configs": [{"targets": [f"{ports.LOOPBACK}:{ports.PROMETHEUS}"]}],
            },
            {
                "job_name": "alertmanager",
                "static_configs": [{"targets": [alertmanager.address()]}],
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
            *(_bearer_job(listed) for listed in sorted(_bearer_dir(layout).glob("*.json"))),
        ],
    }


def _bearer_dir(layout: Layout) -> Path:
    """Target lists that need a bearer token, each beside its token (``<job>.token``)."""
    return layout.prometheus_targets / "bearer"


def _bearer_job(listed: Path) -> dict[str, object]:
    return {
        "job_name": f"local-services-bearer-{listed.stem}",
        "authorization": {"credentials_file": str(listed.with_suffix(".token"))},
        "file_sd_configs": [{"files": [str(listed)], "refresh_interval": "5s"}],
    }


_JOB_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_TARGET = re.compile(r"^[^\s/:]+:[0-9]{1,5}$")


def _layout(where: Layout | Path) -> Layout:
    """``where`` is a :class:`Layout` or the toolkit's state directory (``Settings.state_dir``)."""
    return where if isinstance(where, Layout) else Layout(where / "cluster")


def register_targets(
    where: Layout | Path,
    job: str,
    targets: Sequence[str],
    labels: Mapping[str, str] | None = None,
    *,
    bearer_token: str | None = None,
) -> Path:
    """Make Prometheus scrape ``targets`` (``host:port``, ``/metrics``) under the label ``job``.

    Writes ``<targets dir>/<job>.json`` atomically (a file_sd list; Prometheus rereads it within
    5 s), replacing an earlier list of the same job. ``where`` is the platform's :class:`Layout`
    or the toolkit's state directory. Returns the file written.

    With ``bearer_token`` (targets that want ``Authorization: Bearer``, such as LiteLLM's
    ``/metrics``) the list goes to ``<targets dir>/bearer/`` with the token beside it (mode 600).
    A file_sd list carries no credentials, so such a list is a scrape job of its own in
    ``prometheus.yml``, which is rewritten and reloaded (when Prometheus runs).
    """
    if not _JOB_NAME.match(job):
        raise ValueError(f"job {job!r} must be letters, digits, '_', '.' or '-'")
    bad = [t for t in targets if not _TARGET.match(t)]
    if bad or not targets:
        raise ValueError(f"targets must be a non-empty list of host:port, got {list(targets)}")
    layout = _layout(where)
    plain = layout.prometheus_targets / f"{job}.json"
    entry = json.dumps([{"targets": list(targets), "labels": {**(labels or {}), "job": job}}])
    if bearer_token is None:
        _write_atomically(plain, entry)
        if _remove_bearer(layout, job):  # a bearer job until now
            _apply_config(layout)
        return plain
    plain.unlink(missing_ok=True)
    _write_atomically(_bearer_dir(layout) / f"{job}.token", bearer_token, mode=0o600)
    final = _write_atomically(_bearer_dir(layout) / f"{job}.json", entry)
    _apply_config(layout)
    return final


def unregister_targets(where: Layout | Path, job: str) -> bool:
    """Stop scraping what :func:`register_targets` registered for ``job``; False if nothing was."""
    layout = _layout(where)
    try:
        (layout.prometheus_targets / f"{job}.json").unlink()
    except FileNotFoundError:
        plain = False
    else:
        plain = True
    bearer = _remove_bearer(layout, job)
    if bearer:
        _apply_config(layout)
    return plain or bearer


def _remove_bearer(layout: Layout, job: str) -> bool:
    """Remove ``job``'s bearer target list and its token; False if there was no list."""
    (_bearer_dir(layout) / f"{job}.token").unlink(missing_ok=True)
    try:
        (_bearer_dir(layout) / f"{job}.json").unlink()
    except FileNotFoundError:
        return False
    return True


def _write_atomically(path: Path, text: str, *, mode: int = 0o644) -> Path:
    """Write ``path`` by renaming a finished ``.<name>.partial`` over it (outside every glob)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    partial.chmod(mode)
    os.replace(partial, path)
    return path


def _apply_config(layout: Layout) -> None:
    """Rewrite ``prometheus.yml`` and make a running Prometheus reload it."""
    _write_atomically(_config_file(layout), yaml.safe_dump(config(layout), sort_keys=False))
    _reload_if_running(layout)


def target_health(timeout: float = 5.0) -> dict[str, list[str]]:
    """Each scraped job's targets' health (``up``, ``down`` or ``unknown`` before the first
    scrape), from ``/api/v1/targets``; raises :class:`~localplatform.errors.NotRunningError`."""
    try:
        with urllib.request.urlopen(
            f"{url()}/api/v1/targets?state=active", timeout=timeout
        ) as response:
            active = json.loads(response.read())["data"]["activeTargets"]
    except (urllib.error.URLError, OSError) as exc:
        raise NotRunningError(
            f"Prometheus does not answer at {url()}: {exc}",
            hint="start the local platform: `librechat-ops cluster up`",
        ) from None
    health: dict[str, list[str]] = {}
    for target in active:
        health.setdefault(str(target["labels"].get("job", "")), []).append(str(target["health"]))
    return health


def reload() -> bool:
    """Make the Prometheus on the platform's port reread its configuration and rule files; False
    when none runs. Raises :class:`~localplatform.errors.ReloadError` when it refuses them."""
    return lifecycle.reload(url(), "Prometheus")


def _reload_if_running(layout: Layout) -> bool:
    """Reload the Prometheus of ``layout`` when it runs (never another platform's on the port)."""
    if process.find(layout.pid_file(PROMETHEUS_NAME)) is None:
        return False
    return reload()


def install_rules(where: Layout | Path, name: str, text: str) -> Path:
    """Make Prometheus evaluate the rule file ``text`` (its ``groups:`` YAML) as ``<name>.yml``.

    ``promtool check rules`` checks the text first, so a file Prometheus would refuse never reaches
    the rules directory (where it would fail every later reload and the next start). Then the file
    is written atomically, replacing an earlier one of the same name, and Prometheus reloads; once
    this returns, ``/api/v1/rules`` lists its groups. When the layout's Prometheus is not
    running it loads the file at its next start. ``where`` is the platform's :class:`Layout` or
    the toolkit's state directory. Raises :class:`~localplatform.errors.RulesError` when promtool
    or Prometheus refuses the rules (an earlier file of that name is put back). Returns the file
    written.
    """
    if not _JOB_NAME.match(name):
        raise ValueError(f"rule file name {name!r} must be letters, digits, '_', '.' or '-'")
    layout = _layout(where)
    directory = layout.prometheus_rules
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"{name}{RULES_SUFFIX}"
    partial = directory / f".{name}{RULES_SUFFIX}.partial"  # outside the glob until renamed
    previous = final.read_text() if final.exists() else None
    partial.write_text(text)
    try:
        _check_rules(partial, name)
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    try:
        _reload_if_running(layout)
    except ReloadError as exc:
        if previous is None:
            final.unlink(missing_ok=True)
        else:
            _write_atomically(final, previous)
        with contextlib.suppress(ReloadError):
            _reload_if_running(layout)
        raise RulesError(
            f"Prometheus refused the rules {name!r} ({exc.message}); the earlier rules stay",
            hint=f"its log {layout.log(PROMETHEUS_NAME)} says why",
        ) from None
    return final


def uninstall_rules(where: Layout | Path, name: str) -> bool:
    """Stop evaluating what :func:`install_rules` installed as ``name`` (Prometheus reloads, when
    it runs); False if nothing was installed under that name."""
    layout = _layout(where)
    try:
        (layout.prometheus_rules / f"{name}{RULES_SUFFIX}").unlink()
    except FileNotFoundError:
        return False
    _reload_if_running(layout)
    return True


def _check_rules(path: Path, name: str) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        raise RulesError(
            "`promtool` is not on PATH: the rules cannot be checked before Prometheus loads them",
            hint="apt-get install -y prometheus (the Debian package ships promtool)",
        )
    checked = subprocess.run(
        [promtool, "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if checked.returncode != 0:
        raise RulesError(
            f"promtool refused the rules {name!r}",
            hint="fix the rule file (`promtool check rules FILE` shows the same)",
            log_tail=(checked.stderr or checked.stdout).strip(),
        )


def _token_file(layout: Layout) -> Path:
    return layout.prometheus_dir / "scrape.token"


def _config_file(layout: Layout) -> Path:
    return layout.prometheus_dir / "prometheus.yml"


def _prepare(layout: Layout) -> None:
    layout.prometheus_targets.mkdir(parents=True, exist_ok=True)
    layout.prometheus_rules.mkdir(parents=True, exist_ok=True)
    token = _token_file(layout)
    token.write_text(layout.pki.token("prometheus"))
    token.chmod(0o600)
    _write_atomically(_config_file(layout), yaml.safe_dump(config(layout), sort_keys=False))


def _reload() -> None:
    reload()


def _argv(layout: Layout, _binaries: Binaries) -> list[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        raise StartError(
            "`prometheus` is not on PATH",
            hint="apt-get install -y prometheus (the Debian package), then run `cluster up` again",
        )
    return [
        binary,
        f"--config.file={_config_file(layout)}",
        f"--storage.tsdb.path={layout.prometheus_dir / 'data'}",
        f"--web.listen-address={ports.LOOPBACK}:{ports.PROMETHEUS}",
        "--web.enable-lifecycle",
        "--web.enable-remote-write-receiver",
        f"--rules.alert.resend-delay={RESEND_DELAY}",
        "--storage.tsdb.retention.time=15d",
    ]


PROMETHEUS = Component(
    PROMETHEUS_NAME,
    (ports.PROMETHEUS,),
    _argv,
    lambda layout: Probe(f"{url()}/-/ready"),
    start_timeout=30,
    prepare=_prepare,
    reload=lambda _layout: _reload(),
)

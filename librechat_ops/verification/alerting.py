"""The run's own alerting: a real Prometheus scraping the run's simulator with the generated SLO
rules, a real Alertmanager routing every alert to a webhook this process serves, and the
notifications received (what a pager would have seen, and when).

The rules are the ones ``librechat-ops slo rules`` writes (:func:`slos.rules.generate`), run at
:data:`SCALE`: every window divided by 60, so the page over 1 h and 5 min watches 60 s and 5 s, and
a two-minute run can show an alert fire and resolve. The report states the scale.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from librechat_sim.errors import SimError
from librechat_sim.haproxy import METRICS_PATH
from librechat_sim.processes import Child, free_port, spawn, stop, wait_ready
from slos.definition import Environment
from slos.rules import dump, generate

from .errors import VerifyError

SCALE = 1 / 60
"""Every rule window is multiplied by this: 1 h becomes 60 s, 5 min 5 s, 3 d 72 min."""

SCRAPE_INTERVAL = "1s"
"""Prometheus scrapes the replicas and evaluates the rules this often (the shortest scaled window
is 5 s: five samples)."""

GROUP_INTERVAL = "1s"
"""Alertmanager's wait before telling of a change in a group (each alert is its own group)."""

ALERTMANAGER_PROGRAMS = ("prometheus-alertmanager", "alertmanager")
"""Debian names the binary ``prometheus-alertmanager``; upstream ``alertmanager``."""


@dataclass(frozen=True)
class AlertSpan:
    """One alert (name and labels) from its first firing notification to its resolution."""

    name: str
    """The alert's name (``SloErrorBudgetBurnPage1h``)."""
    journey: str
    """Its ``slo_journey`` label."""
    objective: str
    """Its ``slo_objective`` label (``availability``, ``latency_p99``)."""
    severity: str
    """``page`` or ``ticket``."""
    active_at: float
    """Epoch seconds Prometheus saw the condition become true (the alert's ``startsAt``)."""
    notified_at: float
    """Epoch seconds the firing notification reached the webhook (through Alertmanager)."""
    resolved_at: float | None
    """Epoch seconds the resolved notification arrived; None if none did."""


class _Receiver(ThreadingHTTPServer):
    """The webhook Alertmanager posts to; keeps every alert of every notification."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length))
            alerts = [a for a in body.get("alerts", []) if isinstance(a, dict)]
        except (ValueError, AttributeError):
            self.send_response(400)
            self.end_headers()
            return
        now = time.time()
        with self.server.lock:
            self.server.received += [(now, a) for a in alerts]
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the run's progress lines are the output."""


def _epoch(text: str) -> float | None:
    """An RFC 3339 time from Alertmanager as epoch seconds (None for its zero time)."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


def _program(names: tuple[str, ...], package: str) -> str:
    for name in names:
        if found := shutil.which(name):
            return found
    raise VerifyError(
        f"`{names[0]}` is not on PATH: verify records which alert each fault fires",
        hint=f"apt-get install -y {package} (or run `make setup`)",
    )


class Alerting:
    """Prometheus and Alertmanager for one run; a context manager (both stopped at its end)."""

    def __init__(
        self, slos: Environment, env: str, targets: list[str], front: str, workdir: Path
    ) -> None:
        """``targets``: the replicas' ``host:port``; ``front``: the front door's (haproxy, whose
        metrics are at :data:`librechat_sim.haproxy.METRICS_PATH`)."""
        self.slos, self.env, self.targets, self.workdir = slos, env, targets, workdir
        self.front = front
        self.receiver = _Receiver()
        self.children: list[Child] = []
        self.prometheus_port = 0

    def _write_configs(self, alertmanager_port: int) -> None:
        rules = generate(self.env, self.slos, scale=SCALE, interval=SCRAPE_INTERVAL)
        (self.workdir / "slo.rules.yml").write_text(dump(rules))
        webhook = f"http://127.0.0.1:{self.receiver.server_address[1]}/alerts"
        alertmanager = {
            "route": {
                "receiver": "verify",
                "group_by": ["..."],
                "group_wait": "0s",
                "group_interval": GROUP_INTERVAL,
                "repeat_interval": "1h",
            },
            "receivers": [
                {"name": "verify", "webhook_configs": [{"url": webhook, "send_resolved": True}]}
            ],
        }
        (self.workdir / "alertmanager.yml").write_text(yaml.safe_dump(alertmanager))
        prometheus = {
            "global": {
                "scrape_interval": SCRAPE_INTERVAL,
                "evaluation_interval": SCRAPE_INTERVAL,
            },
            "rule_files": [str(self.workdir / "slo.rules.yml")],
            "alerting": {
                "alertmanagers": [
                    {"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}
                ]
            },
            "scrape_configs": [
                {"job_name": "librechat-sim", "static_configs": [{"targets": self.targets}]},
                {
                    "job_name": "librechat-sim-front",
                    "metrics_path": METRICS_PATH,
                    "static_configs": [{"targets": [self.front]}],
                },
            ],
        }
        (self.workdir / "prometheus.yml").write_text(yaml.safe_dump(prometheus))

    def __enter__(self) -> Alerting:
        prometheus = _program(("prometheus",), "prometheus")
        alertmanager = _program(ALERTMANAGER_PROGRAMS, "prometheus-alertmanager")
        self.workdir.mkdir(parents=True, exist_ok=True)
        threading.Thread(
            target=self.receiver.serve_forever, name="alert-webhook", daemon=True
        ).start()
        am_port, self.prometheus_port = free_port(), free_port()
        self._write_configs(am_port)
        try:
            self._start(
                "alertmanager",
                [
                    alertmanager,
                    f"--config.file={self.workdir / 'alertmanager.yml'}",
                    f"--storage.path={self.workdir / 'alertmanager-data'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                ],
                am_port,
            )
            self._start(
                "prometheus",
                [
                    prometheus,
                    f"--config.file={self.workdir / 'prometheus.yml'}",
                    f"--storage.tsdb.path={self.workdir / 'prometheus-data'}",
                    f"--web.listen-address=127.0.0.1:{self.prometheus_port}",
                ],
                self.prometheus_port,
            )
        except BaseException:
            self.close()
            raise
        return self

    def _start(self, name: str, argv: list[str], port: int) -> None:
        child = spawn(name, argv, self.workdir / f"{name}.log")
        self.children.append(child)
        try:
            wait_ready(child, port, "/-/ready", timeout_s=30)
        except SimError as exc:
            raise VerifyError(
                f"the run's {name} did not start: {exc.message}", exc.hint or ""
            ) from None

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop both programs and the webhook."""
        for child in reversed(self.children):
            stop(child)
        self.children.clear()
        self.receiver.shutdown()
        self.receiver.server_close()

    def spans(self) -> list[AlertSpan]:
        """Every alert notified so far, first firing to resolution, in the order they fired."""
        with self.receiver.lock:
            received = list(self.receiver.received)
        spans: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
        for at, alert in received:
            labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
            key = tuple(sorted(labels.items()))
            span = spans.get(key)
            if alert.get("status") == "firing" and (span is None or span["resolved_at"]):
                if span is not None and span["resolved_at"]:
                    key = (*key, ("#", str(at)))  # fired again after resolving: a new span
                starts = _epoch(str(alert.get("startsAt", ""))) or at
                spans[key] = {"labels": labels, "active_at": starts, "notified_at": at}
                spans[key]["resolved_at"] = None
            elif alert.get("status") == "resolved" and span is not None:
                span["resolved_at"] = span["resolved_at"] or at
        return sorted(
            (
                AlertSpan(
                    name=s["labels"].get("alertname", ""),
                    journey=s["labels"].get("slo_journey", ""),
                    objective=s["labels"].get("slo_objective", ""),
                    severity=s["labels"].get("severity", ""),
                    active_at=s["active_at"],
                    notified_at=s["notified_at"],
                    resolved_at=s["resolved_at"],
                )
                for s in spans.values()
            ),
            key=lambda s: s.notified_at,
        )

    def wait_resolved(self, timeout_s: float, severity: str = "page") -> bool:
        """After the load: wait until every notified alert of ``severity`` has resolved (once
        their short windows hold no traffic they have no ratio); False if some did not."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            spans = [s for s in self.spans() if s.severity == severity]
            if all(s.resolved_at is not None for s in spans):
                return True
            time.sleep(0.5)
        return False

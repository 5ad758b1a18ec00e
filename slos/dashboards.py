"""Grafana dashboards generated from the SLO definition: what ``librechat-ops slo dashboards``
writes and the Pulumi program ships as ConfigMaps for Grafana's dashboard sidecar.

What belongs here: the dashboards' JSON (Grafana's dashboard model, ``schemaVersion`` 39, which
Grafana 10.4 to 12 load as is or migrate on load) built from the same definition as the rules.
Two dashboards:

- ``librechat-slo-<env>.json``: per journey and objective, the SLI (the share of bad requests,
  ``slo:sli_error:ratio_rate*``), the burn rate over every alert window with the alert factors
  as thresholds (``slo:burn_rate:ratio_rate*``), the error budget left over the SLO's time window
  (1 - the burn rate over that window), and the burn-rate alerts that fire (``ALERTS``);
- ``librechat-autoscaler.json``: per PredictiveAutoscaler, the load the operator forecast and
  the load it read, the replicas it recommended and the target's, and the rule that decided.

Every panel queries a series a generated rule records or a target exports: the recording rules
of :func:`slos.rules.generate`, Prometheus' own ``ALERTS``, and the operator's autoscaler gauges
(``k8s_operator/autoscaler_metrics.py``, whose names are repeated below because this package
imports no product area; ``tests/slos/test_dashboards.py`` fails when they drift apart).
The data source is a ``${datasource}`` variable of type prometheus, so the dashboards work with
any Prometheus data source name.
"""

from __future__ import annotations

from typing import Any

from .definition import BURN_ALERTS, Environment, prom_duration
from .rules import ALERT_PREFIX, AVAILABILITY, BURN, RATIO, Objective, objectives, period_window

SCHEMA_VERSION = 39
"""Grafana's dashboard JSON schema version the dashboards are written in."""

AUTOSCALER_FILE = "librechat-autoscaler.json"
"""File name of the autoscaler dashboard."""

AUTOSCALER_METRICS = {
    "forecast": "librechat_autoscaler_forecast",
    "forecast_upper": "librechat_autoscaler_forecast_upper",
    "actual": "librechat_autoscaler_actual",
    "recommended": "librechat_autoscaler_recommended_replicas",
    "current": "librechat_autoscaler_current_replicas",
    "reason": "librechat_autoscaler_reason",
    "budget": "librechat_autoscaler_shortfall_budget",
    "realised": "librechat_autoscaler_shortfall_realised",
    "anomaly": "librechat_autoscaler_anomaly",
}
"""The operator's autoscaler gauges the autoscaler dashboard reads."""

_DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_WIDTH = 8
_HEIGHT = 8


def slo_file(env: str) -> str:
    """File name of environment ``env``'s SLO dashboard."""
    return f"librechat-slo-{env}.json"


def _datasource_variable() -> dict[str, Any]:
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "refresh": 1,
        "regex": "",
        "options": [],
    }


def _query_variable(name: str, label: str, query: str) -> dict[str, Any]:
    """A multi-value variable listing a label's values (``label_values(<series>, <label>)``)."""
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": _DATASOURCE,
        "definition": query,
        "query": {"query": query, "refId": f"{name}-values"},
        "current": {},
        "hide": 0,
        "includeAll": True,
        "multi": True,
        "refresh": 2,
        "regex": "",
        "sort": 1,
        "options": [],
    }


def _target(expr: str, legend: str, ref: str, *, instant: bool = False) -> dict[str, Any]:
    target: dict[str, Any] = {
        "datasource": _DATASOURCE,
        "expr": expr,
        "legendFormat": legend,
        "refId": ref,
        "range": not instant,
        "instant": instant,
    }
    if instant:
        target["format"] = "table"
    return target


def _thresholds(steps: list[tuple[float | None, str]]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"value": v, "color": c} for v, c in steps]}


class _Layout:
    """Hands out panel ids and grid positions, three panels to a row."""

    def __init__(self) -> None:
        self.next_id = 1
        self.x = 0
        self.y = 0

    def id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def row(self, title: str, **extra: Any) -> dict[str, Any]:
        if self.x:
            self.x, self.y = 0, self.y + _HEIGHT
        panel = {
            "id": self.id(),
            "type": "row",
            "title": title,
            "collapsed": False,
            "panels": [],
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y},
            **extra,
        }
        self.y += 1
        return panel

    def place(self, width: int = _WIDTH) -> dict[str, int]:
        if self.x + width > 24:
            self.x, self.y = 0, self.y + _HEIGHT
        pos = {"h": _HEIGHT, "w": width, "x": self.x, "y": self.y}
        self.x += width
        return pos


def _panel(  # noqa: PLR0917 - layout, kind, title, text, queries, field defaults
    layout: _Layout,
    kind: str,
    title: str,
    description: str,
    targets: list[dict[str, Any]],
    defaults: dict[str, Any],
    *,
    width: int = _WIDTH,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": layout.id(),
        "type": kind,
        "title": title,
        "description": description,
        "datasource": _DATASOURCE,
        "gridPos": layout.place(width),
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options or {},
    }


def _dashboard(
    uid: str, title: str, tags: list[str], variables: list[dict[str, Any]], panels: list[Any]
) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "tags": tags,
        "editable": False,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "time": {"from": "now-24h", "to": "now"},
        "refresh": "1m",
        "timezone": "utc",
        "graphTooltip": 1,
        "annotations": {"list": []},
        "links": [],
        "templating": {"list": [_datasource_variable(), *variables]},
        "panels": panels,
    }


def _selector(env: str, obj: Objective) -> str:
    return f'{{slo_env="{env}",slo_journey="{obj.journey}",slo_objective="{obj.objective}"}}'


def _meaning(slos: Environment, obj: Objective) -> str:
    """What a bad request is for ``obj``."""
    if obj.objective == AVAILABILITY:
        return "failed requests (5xx)"
    for latency in slos.journeys[obj.journey].latency:
        if f"latency_p{latency.percentile * 100:g}".replace(".", "_") == obj.objective:
            return f"requests slower than {latency.threshold_ms:g} ms"
    return "bad requests"


def _objective_panels(
    layout: _Layout, env: str, slos: Environment, obj: Objective, scale: float
) -> list[dict[str, Any]]:
    sel = _selector(env, obj)
    bad = _meaning(slos, obj)
    short = prom_duration(min(a.short_s for a in BURN_ALERTS) * scale)
    hour = prom_duration(3600 * scale)
    period = period_window(slos, scale)
    alert_windows = sorted({w for a in BURN_ALERTS for w in (a.long_s, a.short_s)})
    burn_targets = [
        _target(f"{BURN}{prom_duration(s * scale)}{sel}", prom_duration(s * scale), chr(65 + i))
        for i, s in enumerate(alert_windows)
    ]
    factors = sorted({a.factor for a in BURN_ALERTS})
    colours = ["yellow", "orange", "red"]
    burn_steps: list[tuple[float | None, str]] = [(None, "green")] + [
        (f, colours[min(i, len(colours) - 1)]) for i, f in enumerate(factors)
    ]
    return [
        _panel(
            layout,
            "timeseries",
            f"{obj.journey} {obj.objective}: SLI (share of {bad})",
            f"Share of {obj.journey} requests that were {bad}, over {short} and {hour}; the "
            f"objective allows {obj.budget:.4%} over {slos.time_window}.",
            [
                _target(f"{RATIO}{short}{sel}", short, "A"),
                _target(f"{RATIO}{hour}{sel}", hour, "B"),
            ],
            {
                "unit": "percentunit",
                "min": 0,
                "thresholds": _thresholds([(None, "green"), (obj.budget, "red")]),
                "custom": {"thresholdsStyle": {"mode": "line"}},
            },
        ),
        _panel(
            layout,
            "timeseries",
            f"{obj.journey} {obj.objective}: burn rate",
            "How fast the error budget burns over each alert window (1 spends it exactly over "
            f"{slos.time_window}); the lines are the alert factors: "
            + ", ".join(
                f"{a.severity} at {a.factor:g}x over {prom_duration(a.long_s * scale)} and "
                f"{prom_duration(a.short_s * scale)}"
                for a in BURN_ALERTS
            )
            + ".",
            burn_targets,
            {
                "min": 0,
                "thresholds": _thresholds(burn_steps),
                "custom": {"thresholdsStyle": {"mode": "line"}},
            },
        ),
        _panel(
            layout,
            "stat",
            f"{obj.journey} {obj.objective}: error budget left ({slos.time_window})",
            f"1 - the burn rate over {period}: the share of the budget not yet spent. Below 0 "
            "the objective is missed for the window.",
            [_target(f"1 - {BURN}{period}{sel}", "left", "A")],
            {
                "unit": "percentunit",
                "thresholds": _thresholds([(None, "red"), (0, "orange"), (0.25, "green")]),
            },
            options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        ),
    ]


def slo_dashboard(env: str, slos: Environment, *, scale: float = 1.0) -> dict[str, Any]:
    """The SLO dashboard of environment ``env`` (windows multiplied by ``scale``, as the rules)."""
    layout = _Layout()
    panels: list[dict[str, Any]] = [layout.row("Burn-rate alerts")]
    alerts = f'ALERTS{{alertname=~"{ALERT_PREFIX}.*",alertstate="firing",slo_env="{env}"}}'
    panels.append(
        _panel(
            layout,
            "table",
            "Firing burn-rate alerts",
            "Every SloErrorBudgetBurn alert firing now: page alerts wake someone, tickets wait "
            "for working hours.",
            [_target(alerts, "", "A", instant=True)],
            {},
            width=24,
            options={"showHeader": True},
        )
    )
    current = ""
    for obj in objectives(slos):
        if obj.journey != current:
            current = obj.journey
            panels.append(layout.row(obj.journey.replace("_", " ")))
        panels += _objective_panels(layout, env, slos, obj, scale)
    return _dashboard(
        f"librechat-slo-{env}",
        f"LibreChat SLOs ({env})",
        ["librechat", "slo", env],
        [],
        panels,
    )


def autoscaler_dashboard() -> dict[str, Any]:
    """The PredictiveAutoscaler dashboard: a row per autoscaler (repeated over ``$name``)."""
    m = AUTOSCALER_METRICS
    sel = '{namespace=~"$namespace",name=~"$name"}'
    layout = _Layout()
    panels = [
        layout.row("$namespace/$name", repeat="name"),
        _panel(
            layout,
            "timeseries",
            "Load: forecast and actual",
            "The last value of the autoscaler's query (actual), the mean forecast at its "
            "horizon, and the upper bound of the band the replicas are sized for.",
            [
                _target(f"{m['actual']}{sel}", "actual {{namespace}}/{{name}}", "A"),
                _target(f"{m['forecast']}{sel}", "forecast {{namespace}}/{{name}}", "B"),
                _target(f"{m['forecast_upper']}{sel}", "upper {{namespace}}/{{name}}", "C"),
            ],
            {"min": 0},
        ),
        _panel(
            layout,
            "timeseries",
            "Replicas",
            "Replicas the autoscaler recommended and the target's replicas after the decision "
            "(they differ in observe mode).",
            [
                _target(f"{m['recommended']}{sel}", "recommended {{namespace}}/{{name}}", "A"),
                _target(f"{m['current']}{sel}", "current {{namespace}}/{{name}}", "B"),
            ],
            {"min": 0, "decimals": 0},
        ),
        _panel(
            layout,
            "state-timeline",
            "Reason",
            "The rule that set the replicas: predictive, reactive-floor, event (a known event's "
            "expected demand), model-fallback, bad-data-hold, bad-data-floor, target-missing or "
            "invalid-spec.",
            [_target(f"max by (reason) ({m['reason']}{sel} == 1)", "{{reason}}", "A")],
            {},
            options={"mergeValues": True, "showValue": "never"},
        ),
        _panel(
            layout,
            "timeseries",
            "Shortfall: realised against the budget",
            "Share of intervals in which the pods the autoscaler made ready fell short of the "
            "demand, since it started, and the shortfallBudget it keeps.",
            [
                _target(f"{m['realised']}{sel}", "realised {{namespace}}/{{name}}", "A"),
                _target(f"{m['budget']}{sel}", "budget {{namespace}}/{{name}}", "B"),
            ],
            {"min": 0, "unit": "percentunit"},
        ),
        _panel(
            layout,
            "state-timeline",
            "Anomaly",
            "Demand outside the forecast's calibrated band for several intervals: a surge the "
            "model did not expect, or a drop (often an outage upstream).",
            [_target(f"max by (kind) ({m['anomaly']}{sel} == 1)", "{{kind}}", "A")],
            {},
            options={"mergeValues": True, "showValue": "never"},
        ),
    ]
    variables = [
        _query_variable("namespace", "Namespace", f"label_values({m['recommended']}, namespace)"),
        _query_variable(
            "name",
            "Autoscaler",
            f'label_values({m["recommended"]}{{namespace=~"$namespace"}}, name)',
        ),
    ]
    return _dashboard(
        "librechat-autoscaler",
        "LibreChat PredictiveAutoscalers",
        ["librechat", "autoscaler"],
        variables,
        panels,
    )


def generate(env: str, slos: Environment, *, scale: float = 1.0) -> dict[str, dict[str, Any]]:
    """File name -> dashboard JSON for environment ``env``."""
    return {
        slo_file(env): slo_dashboard(env, slos, scale=scale),
        AUTOSCALER_FILE: autoscaler_dashboard(),
    }

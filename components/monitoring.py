"""What kube-prometheus-stack needs to watch LibreChat: the SLO rules and dashboards, the scrape
targets, and where alerts go. Pure functions returning manifests and Helm values as dicts.

- The rules of :func:`slos.rules.generate` as one ``PrometheusRule`` per environment, and the
  dashboards of :func:`slos.dashboards.generate` as ConfigMaps for Grafana's dashboard sidecar.
  Both are picked up by label: the chart's Prometheus selects rules (and ServiceMonitors and
  PodMonitors) labelled ``release: <release name>`` in every namespace
  (``prometheus.prometheusSpec.ruleSelectorNilUsesHelmValues: true`` and its siblings, with empty
  namespace selectors), and its Grafana sidecar loads ConfigMaps labelled ``grafana_dashboard:
  "1"`` from every namespace (``grafana.sidecar.dashboards``: ``label``, ``labelValue``,
  ``searchNamespace: ALL``) — kube-prometheus-stack's ``values.yaml``,
  github.com/prometheus-community/helm-charts.
- Scrape targets: a ServiceMonitor for the AI gateway (LiteLLM serves ``/metrics`` on its proxy
  port with its ``prometheus`` callback, :mod:`components.gateway`), selecting the Service the
  operator gives the platform's ``ai-gateway`` (label ``librechat.io/service``, port ``http``,
  :mod:`k8s_operator.children`); a PodMonitor for the operator, which has no Service, selecting
  its pods by ``app.kubernetes.io/name`` on its ``metrics`` port (:mod:`k8s_operator.deploy`).
  LibreChat's own API serves no ``/metrics`` (its ``api/package.json`` has no Prometheus client;
  upstream points to a separate exporter, virtUOS/librechat_exporter), so the LibreChat pools
  are measured at their front door, Kong (:mod:`slos.sli`): Kong's chart renders its own
  ServiceMonitor (``serviceMonitor.enabled``, labelled for the release here) and a global
  ``prometheus`` KongClusterPlugin turns on the per-route status and latency metrics.
- Alert routing: alerts with ``severity`` ``page`` or ``ticket`` (the burn-rate alerts') go to
  one receiver whose settings come from the stack (``librechat:alertReceiver``, a secret).
  The whole Alertmanager configuration is rendered here into a Secret of the monitoring
  namespace, and the chart's Alertmanager is pointed at it (``alertmanagerSpec.useExistingSecret``
  and ``configSecret``), rather than through ``alertmanager.config`` values or an
  AlertmanagerConfig object: Helm values would carry the receiver's credentials into the
  release (readable with ``helm get values``) and make Pulumi hide the whole values object as
  secret, and an AlertmanagerConfig only routes alerts whose ``namespace`` label is its own
  (``alertmanagerConfigMatcherStrategy`` ``OnNamespace``, the default), which the SLO alerts,
  aggregated over every pod, do not carry. With no receiver set, nothing is invented: the
  chart's own configuration stays (everything to its ``null`` receiver) and the plan says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from k8s_operator.children import SERVICE_LABEL
from k8s_operator.deploy import NAME as OPERATOR_NAME
from k8s_operator.deploy import NAMESPACE as OPERATOR_NAMESPACE
from slos import dashboards, rules
from slos.definition import Environment

from .errors import ConfigError
from .k8s_objects import APP_NAMESPACE, MONITORING_NAMESPACE

RELEASE = "kube-prometheus-stack"
"""The kube-prometheus-stack Helm release name (:mod:`components.helm`)."""

RELEASE_LABELS = {"release": RELEASE}
"""What the chart's Prometheus selects PrometheusRules, ServiceMonitors and PodMonitors by."""

DASHBOARD_LABELS = {"grafana_dashboard": "1"}
"""What the chart's Grafana sidecar loads dashboard ConfigMaps by."""

PLATFORM = "librechat"
"""The region's ``LibreChat`` resource (:func:`components.librechat.librechat_object`)."""

GATEWAY_SERVICE = f"{PLATFORM}-ai-gateway"
"""The operator's Service of the platform's ``ai-gateway`` (``<platform>-<service>``)."""

ALERTMANAGER_SECRET = "librechat-alertmanager"
"""The Secret holding the Alertmanager configuration, in the monitoring namespace."""

ALERTMANAGER_KEY = "alertmanager.yaml"
"""Its key: the file name prometheus-operator reads from a ``configSecret``."""

RECEIVER = "librechat-oncall"
"""The receiver page and ticket alerts are routed to."""

RECEIVER_KEY = "librechat:alertReceiver"
"""The stack config key of the receiver's settings."""

INTEGRATIONS = frozenset({
    "discord_configs", "email_configs", "jira_configs", "msteams_configs", "msteamsv2_configs",
    "opsgenie_configs", "pagerduty_configs", "pushover_configs", "rocketchat_configs",
    "slack_configs", "sns_configs", "telegram_configs", "victorops_configs", "webex_configs",
    "webhook_configs", "wechat_configs",
})  # fmt: skip
"""Alertmanager's receiver integrations (prometheus.io/docs/alerting/latest/configuration,
``<receiver>``)."""

SEVERITIES = {"page": "1h", "ticket": "12h"}
"""Severities routed to the receiver, and how often a still-firing alert is sent again."""


def prometheus_rule(env: str, slos: Environment) -> dict[str, Any]:
    """The generated recording rules and burn-rate alerts of ``env`` as a PrometheusRule."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": f"librechat-slo-{env}",
            "namespace": MONITORING_NAMESPACE,
            "labels": {**RELEASE_LABELS, "app.kubernetes.io/part-of": PLATFORM},
        },
        "spec": rules.generate(env, slos),
    }


def _dashboard_map_name(file: str) -> str:
    """``librechat-slo-production.json`` -> ``librechat-dashboard-slo-production``."""
    return "librechat-dashboard-" + file.removeprefix("librechat-").removesuffix(".json")


def dashboard_config_maps(env: str, slos: Environment) -> list[dict[str, Any]]:
    """One ConfigMap per generated dashboard, labelled for Grafana's sidecar."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": _dashboard_map_name(file),
                "namespace": MONITORING_NAMESPACE,
                "labels": {**DASHBOARD_LABELS, "app.kubernetes.io/part-of": PLATFORM},
            },
            "data": {file: json.dumps(board, indent=1, sort_keys=True)},
        }
        for file, board in dashboards.generate(env, slos).items()
    ]


def gateway_monitor() -> dict[str, Any]:
    """The AI gateway's ServiceMonitor: LiteLLM's ``/metrics`` on the service's ``http`` port."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": GATEWAY_SERVICE, "namespace": APP_NAMESPACE, "labels": RELEASE_LABELS},
        "spec": {
            "selector": {"matchLabels": {SERVICE_LABEL: GATEWAY_SERVICE}},
            "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
        },
    }


def operator_monitor() -> dict[str, Any]:
    """The operator's PodMonitor: its pods' ``metrics`` port (it has no Service)."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {
            "name": OPERATOR_NAME,
            "namespace": OPERATOR_NAMESPACE,
            "labels": RELEASE_LABELS,
        },
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": OPERATOR_NAME}},
            "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}],
        },
    }


def kong_prometheus_plugin() -> dict[str, Any]:
    """Kong's Prometheus plugin on every route (global): status-code and latency metrics per
    route, what the cloud SLIs are computed from (docs.konghq.com/hub/kong-inc/prometheus)."""
    return {
        "apiVersion": "configuration.konghq.com/v1",
        "kind": "KongClusterPlugin",
        "metadata": {
            "name": "prometheus",
            "labels": {"global": "true"},
            "annotations": {"kubernetes.io/ingress.class": "kong"},
        },
        "plugin": "prometheus",
        "config": {
            "status_code_metrics": True,
            "latency_metrics": True,
            "bandwidth_metrics": False,
            "upstream_health_metrics": False,
            "per_consumer": False,
        },
    }


def kong_values() -> dict[str, Any]:
    """Kong chart values: its ServiceMonitor, labelled for the release's Prometheus."""
    return {"serviceMonitor": {"enabled": True, "labels": RELEASE_LABELS}}


def monitoring_objects(
    kind: str, env: str, slos: Environment, *, grafana: bool
) -> list[dict[str, Any]]:
    """Rules, monitors and (where Grafana runs) dashboards of one region."""
    objects = [prometheus_rule(env, slos), gateway_monitor(), operator_monitor()]
    if kind != "laptop":
        objects.append(kong_prometheus_plugin())
    if grafana:
        objects += dashboard_config_maps(env, slos)
    return objects


def receiver_from_config(obj: Any, key: str = RECEIVER_KEY) -> dict[str, Any]:
    """A receiver's settings from the stack (an object of Alertmanager integrations such as
    ``{"pagerduty_configs": [{"routing_key": ...}]}``); a bad one is a :class:`ConfigError`."""
    if not isinstance(obj, dict) or not obj:
        raise ConfigError(
            key, "must be an object of Alertmanager receiver integrations (e.g. pagerduty_configs)"
        )
    unknown = sorted(set(obj) - INTEGRATIONS)
    if unknown:
        raise ConfigError(
            f"{key}.{unknown[0]}", f"is not a receiver integration; known: {sorted(INTEGRATIONS)}"
        )
    for name, configs in obj.items():
        if (
            not isinstance(configs, list)
            or not configs
            or not all(isinstance(c, dict) and c for c in configs)
        ):
            raise ConfigError(f"{key}.{name}", "must be a non-empty list of objects")
    return dict(obj)


def alertmanager_config(receiver: Mapping[str, Any]) -> dict[str, Any]:
    """Alertmanager's configuration: page and ticket alerts to :data:`RECEIVER` (built from
    ``receiver``), everything else (the chart's Watchdog, info alerts) to ``null``."""
    return {
        "route": {
            "receiver": "null",
            "group_by": ["alertname", "slo_env", "slo_journey", "slo_objective"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "12h",
            "routes": [
                {
                    "receiver": RECEIVER,
                    "matchers": [f'severity="{severity}"'],
                    "repeat_interval": repeat,
                }
                for severity, repeat in SEVERITIES.items()
            ],
        },
        "inhibit_rules": [
            {
                "source_matchers": ['severity="page"'],
                "target_matchers": ['severity="ticket"'],
                "equal": ["slo_env", "slo_journey", "slo_objective"],
            }
        ],
        "receivers": [{"name": "null"}, {"name": RECEIVER, **receiver}],
    }


def alertmanager_yaml(receiver: Mapping[str, Any]) -> str:
    """:func:`alertmanager_config` as the file's text."""
    return yaml.safe_dump(alertmanager_config(receiver), sort_keys=False)


def alertmanager_values(*, routed: bool) -> dict[str, Any]:
    """kube-prometheus-stack values pointing its Alertmanager at :data:`ALERTMANAGER_SECRET`
    (``routed``), or none (the chart's own configuration)."""
    if not routed:
        return {}
    return {"alertmanagerSpec": {"useExistingSecret": True, "configSecret": ALERTMANAGER_SECRET}}

"""The API server itself rejects malformed custom resources (structural schema + CEL rules)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from k8s_operator import crds
from k8s_operator.kube import Kube, KubeError

pytestmark = pytest.mark.e2e

Obj = dict[str, Any]


def _service() -> Obj:
    return {
        "apiVersion": crds.API_VERSION,
        "kind": "LibreChatService",
        "metadata": {"name": "svc"},
        "spec": {
            "image": "ghcr.io/danny-avila/librechat-rag-api-dev-lite:v0.9.0",
            "minReplicas": 2,
        },
    }


def _platform() -> Obj:
    return {
        "apiVersion": crds.API_VERSION,
        "kind": "LibreChat",
        "metadata": {"name": "lc"},
        "spec": {
            "version": "v0.8.1",
            "secretsRef": {"name": "librechat-secrets"},
            "redis": {"urlSecretRef": {"name": "redis", "key": "url"}},
        },
    }


def _autoscaler() -> Obj:
    return {
        "apiVersion": crds.API_VERSION,
        "kind": "PredictiveAutoscaler",
        "metadata": {"name": "pas"},
        "spec": {
            "targetRef": {"name": "svc"},
            "query": "sum(rate(x[1m]))",
            "podCapacity": 50,
            "events": [
                {
                    "name": "launch",
                    "start": "2026-12-24T18:00:00Z",
                    "end": "2026-12-24T20:00:00Z",
                    "multiplier": 3,
                }
            ],
        },
    }


def _chaos() -> Obj:
    return {
        "apiVersion": crds.API_VERSION,
        "kind": "ChaosSchedule",
        "metadata": {"name": "cs"},
        "spec": {
            "schedule": "0 */6 * * *",
            "experiment": "ai-gateway-pod-kill",
            "image": "librechat-ops:0.1.0",
            "targetSelector": {"matchLabels": {"librechat.io/service": "ai-gateway"}},
            "sloGuard": {},
        },
    }


def _set(path: str, value: Any) -> Callable[[Obj], None]:
    def mutate(obj: Obj) -> None:
        *parents, last = path.split(".")
        node = obj
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    return mutate


def _drop(path: str) -> Callable[[Obj], None]:
    def mutate(obj: Obj) -> None:
        *parents, last = path.split(".")
        node = obj
        for part in parents:
            node = node[part]
        del node[last]

    return mutate


MALFORMED: list[tuple[str, Callable[[], Obj], Callable[[Obj], None], str]] = [
    ("service without image", _service, _drop("spec.image"), "spec.image: Required"),
    ("service empty image", _service, _set("spec.image", ""), "spec.image"),
    ("service port 0", _service, _set("spec.port", 0), "spec.port"),
    ("service port 70000", _service, _set("spec.port", 70000), "spec.port"),
    ("service port as text", _service, _set("spec.port", "http"), "spec.port"),
    ("service tier 5", _service, _set("spec.tier", 5), "spec.tier"),
    ("service tier 0", _service, _set("spec.tier", 0), "spec.tier"),
    ("service negative min", _service, _set("spec.minReplicas", -1), "spec.minReplicas"),
    ("service max 0", _service, _set("spec.maxReplicas", 0), "spec.maxReplicas"),
    ("service min > max", _service, _set("spec.maxReplicas", 1), "minReplicas must not exceed"),
    ("service bad cpu", _service, _set("spec.resources.requests.cpu", "lots"), "cpu"),
    ("service bad memory", _service, _set("spec.resources.limits.memory", "1 GB"), "memory"),
    ("service probe path", _service, _set("spec.probe.path", "health"), "spec.probe.path"),
    ("service probe period", _service, _set("spec.probe.periodSeconds", 0), "periodSeconds"),
    ("service availability", _service, _set("spec.slo.availability", "120"), "availability"),
    ("service latency 0", _service, _set("spec.slo.p99LatencyMs", 0), "p99LatencyMs"),
    ("service config not text", _service, _set("spec.config", {"A": 1}), "spec.config"),
    (
        "service config key not a ConfigMap key",
        _service,
        _set("spec.config", {"OK_KEY": "1", "BAD KEY/1": "2"}),
        "valid ConfigMap keys",
    ),
    ("service config key too long", _service, _set("spec.config", {"A" * 254: "1"}), "253"),
    ("service config key a dot", _service, _set("spec.config", {"..": "1"}), "'.' or '..'"),
    (
        "service secret env name",
        _service,
        _set("spec.secretEnv", [{"name": "lower", "secretRef": {"name": "s", "key": "k"}}]),
        "secretEnv",
    ),
    (
        "service secret ref w/o key",
        _service,
        _set("spec.secretEnv", [{"name": "A", "secretRef": {"name": "s"}}]),
        "key",
    ),
    ("service relative writable path", _service, _set("spec.writablePaths", ["data"]), "writable"),
    (
        "service config map bad name",
        _service,
        _set("spec.configMaps", [{"name": "Bad_Name", "mountPath": "/etc/x"}]),
        "spec.configMaps[0].name",
    ),
    (
        "service config map two at one path",
        _service,
        _set(
            "spec.configMaps",
            [{"name": "a", "mountPath": "/etc/x"}, {"name": "b", "mountPath": "/etc/x"}],
        ),
        "Duplicate",
    ),
    ("service no spec", _service, _drop("spec"), "spec: Required"),
    ("platform without version", _platform, _drop("spec.version"), "spec.version: Required"),
    ("platform version not semver", _platform, _set("spec.version", "latest"), "spec.version"),
    ("platform version w/o v", _platform, _set("spec.version", "0.8.1"), "spec.version"),
    ("platform without secrets", _platform, _drop("spec.secretsRef"), "secretsRef: Required"),
    ("platform replicas w/o redis", _platform, _drop("spec.redis"), "needs Redis"),
    (
        "platform api min > max",
        _platform,
        _set("spec.api", {"minReplicas": 5, "maxReplicas": 3}),
        "api.minReplicas",
    ),
    (
        "platform unknown service",
        _platform,
        _set("spec.services", [{"name": "billing"}]),
        "spec.services[0].name",
    ),
    (
        "platform duplicate service",
        _platform,
        _set("spec.services", [{"name": "file"}, {"name": "file"}]),
        "Duplicate",
    ),
    (
        "platform image latest",
        _platform,
        _set("spec.images", {"litellm": "ghcr.io/berriai/litellm-non_root:latest"}),
        "must be pinned",
    ),
    (
        "platform image without tag",
        _platform,
        _set("spec.images", {"litellm": "ghcr.io/berriai/litellm-non_root"}),
        "must be pinned",
    ),
    (
        "platform image with spaces",
        _platform,
        _set("spec.images", {"litellm": "ghcr.io/berriai/litellm non_root:v1"}),
        "spec.images.litellm",
    ),
    ("platform bad region", _platform, _set("spec.region", "EU West"), "spec.region"),
    ("platform bad key prefix", _platform, _set("spec.redis.keyPrefix", "has space"), "keyPrefix"),
    (
        "platform redis ref w/o name",
        _platform,
        _set("spec.redis.urlSecretRef", {"key": "url"}),
        "name",
    ),
    ("autoscaler without target", _autoscaler, _drop("spec.targetRef"), "targetRef: Required"),
    ("autoscaler zero capacity", _autoscaler, _set("spec.podCapacity", 0), "podCapacity"),
    ("autoscaler bad mode", _autoscaler, _set("spec.mode", "yolo"), "spec.mode"),
    ("autoscaler horizon 0", _autoscaler, _set("spec.horizonMinutes", 0), "horizonMinutes"),
    ("autoscaler interval 1 s", _autoscaler, _set("spec.intervalSeconds", 1), "intervalSeconds"),
    ("autoscaler no query", _autoscaler, _set("spec.query", ""), "spec.query"),
    (
        "autoscaler event ends before it starts",
        _autoscaler,
        _set(
            "spec.events",
            [{"name": "m", "start": "1998-06-10T17:30:00Z", "end": "1998-06-10T17:00:00Z"}],
        ),
        "an event must end after it starts",
    ),
    (
        "autoscaler event start not a time",
        _autoscaler,
        _set("spec.events", [{"name": "m", "start": "tomorrow", "end": "1998-06-10T17:00:00Z"}]),
        "spec.events[0].start",
    ),
    (
        "autoscaler event rate 0",
        _autoscaler,
        _set(
            "spec.events",
            [
                {
                    "name": "m",
                    "start": "1998-06-10T17:00:00Z",
                    "end": "1998-06-10T19:00:00Z",
                    "rate": 0,
                }
            ],
        ),
        "spec.events[0].rate",
    ),
    ("chaos bad cron", _chaos, _set("spec.schedule", "every six hours"), "spec.schedule"),
    ("chaos without image", _chaos, _drop("spec.image"), "spec.image: Required"),
    ("chaos no selector", _chaos, _drop("spec.targetSelector"), "targetSelector: Required"),
    (
        "chaos negative burn",
        _chaos,
        _set("spec.sloGuard", {"maxBurnRate": -1}),
        "maxBurnRate",
    ),
    (
        "chaos window not recorded",
        _chaos,
        _set("spec.sloGuard", {"window": "2h"}),
        "spec.sloGuard.window",
    ),
    (
        "chaos unknown journey",
        _chaos,
        _set("spec.sloGuard", {"journey": "billing"}),
        "spec.sloGuard.journey",
    ),
    (
        "service nodeSelector key",
        _service,
        _set("spec.nodeSelector", {"pool/gpu/a100": "yes"}),
        "nodeSelector keys must be label keys",
    ),
    (
        "service nodeSelector value",
        _service,
        _set("spec.nodeSelector", {"pool": "a b"}),
        "spec.nodeSelector.pool",
    ),
    (
        "service toleration Exists with a value",
        _service,
        _set("spec.tolerations", [{"key": "gpu", "operator": "Exists", "value": "1"}]),
        "operator Exists takes no value",
    ),
    (
        "service toleration without key",
        _service,
        _set("spec.tolerations", [{"effect": "NoSchedule"}]),
        "without a key must use operator Exists",
    ),
    (
        "service tolerationSeconds not NoExecute",
        _service,
        _set("spec.tolerations", [{"key": "k", "effect": "NoSchedule", "tolerationSeconds": 5}]),
        "NoExecute effect only",
    ),
    (
        "service toleration effect",
        _service,
        _set("spec.tolerations", [{"key": "k", "effect": "Sometimes"}]),
        "spec.tolerations[0].effect",
    ),
    ("chaos max age 0", _chaos, _set("spec.sloGuard", {"maxAgeSeconds": 0}), "maxAgeSeconds"),
    ("chaos experiment name", _chaos, _set("spec.experiment", "Pod Kill!"), "spec.experiment"),
]


@pytest.fixture
def ns(kube: Kube, namespace: str) -> str:
    return namespace


def _create(kube: Kube, obj: Obj, namespace: str) -> Obj:
    obj["metadata"]["namespace"] = namespace
    return kube.request("POST", kube.path(obj["kind"], namespace), obj, query={"dryRun": "All"})


@pytest.mark.parametrize("make", [_service, _platform, _autoscaler, _chaos])
def test_well_formed_resources_are_accepted_with_defaults(
    kube: Kube, ns: str, make: Callable[[], Obj]
) -> None:
    created = _create(kube, make(), ns)
    assert created["metadata"]["name"] == make()["metadata"]["name"]
    if created["kind"] == "LibreChatService":
        assert created["spec"]["port"] == 8080
        assert created["spec"]["probe"] == {"path": "/health", "periodSeconds": 10}
    if created["kind"] == "ChaosSchedule":  # the guard reads slo:burn_rate:ratio_rate1h
        guard = {"maxBurnRate": 1.0, "window": "1h", "maxAgeSeconds": 120}
        assert created["spec"]["sloGuard"] == guard


@pytest.mark.parametrize(
    ("case", "make", "mutate", "message"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_resources_are_rejected_by_the_api_server(
    kube: Kube,
    ns: str,
    case: str,
    make: Callable[[], Obj],
    mutate: Callable[[Obj], None],
    message: str,
) -> None:
    obj = copy.deepcopy(make())
    mutate(obj)
    with pytest.raises(KubeError) as caught:
        _create(kube, obj, ns)
    assert caught.value.status == 422, case
    assert message in caught.value.reason, caught.value.reason


def test_enough_malformed_cases() -> None:
    assert len(MALFORMED) >= 30


def test_committed_manifests_are_current() -> None:
    """``k8s_operator/deploy/crds.yaml`` is what the code renders (regenerate: see README)."""
    committed = Path(crds.__file__).parent / "deploy" / "crds.yaml"
    assert list(yaml.safe_load_all(committed.read_text())) == crds.definitions()

"""Drift detection: what the API server rewrites (defaults, canonical quantities) is not drift;
a real difference is."""

from __future__ import annotations

import copy
from typing import Any

from k8s_operator.children import contains, drifted
from localplatform.cluster import LocalPlatform


def deployment(namespace: str, cpu: str, memory: str) -> dict[str, Any]:
    """A one-container Deployment with these requests."""
    labels = {"app": "drift"}
    container = {
        "name": "app",
        "image": "example.org/app:1",
        "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}},
        "env": [{"name": "WORKERS", "value": "1000m"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "drift", "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def resources(**maps: dict[str, str]) -> dict[str, Any]:
    return {"resources": maps}


def test_quantities_compare_by_value_only_under_resources() -> None:
    assert contains(resources(requests={"cpu": "1"}), resources(requests={"cpu": "1000m"}))
    assert contains(resources(limits={"memory": "1Gi"}), resources(limits={"memory": "1024Mi"}))
    assert contains(resources(requests={"cpu": "500m"}), resources(requests={"cpu": "0.5"}))
    assert not contains(resources(requests={"cpu": "2"}), resources(requests={"cpu": "1000m"}))
    assert not contains(resources(requests={"cpu": "1"}), resources(requests={"cpu": "x"}))
    # Elsewhere the same strings are different values, even under a key named "limits".
    assert not contains({"value": "1"}, {"value": "1000m"})
    assert not contains({"data": {"limits": {"n": "1"}}}, {"data": {"limits": {"n": "1000m"}}})


def test_what_the_api_server_stores_is_not_drift(
    local_platform: LocalPlatform, namespace: str
) -> None:
    desired = deployment(namespace, cpu="1000m", memory="1024Mi")
    api = local_platform.api()
    live = api.request("POST", f"/apis/apps/v1/namespaces/{namespace}/deployments", desired)
    stored = live["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert stored["requests"] == {"cpu": "1", "memory": "1Gi"}  # canonical form
    assert not drifted(live, desired)
    changed = copy.deepcopy(desired)
    changed["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "2"
    assert drifted(live, changed)
    env = copy.deepcopy(desired)
    env["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "1"
    assert drifted(live, env)

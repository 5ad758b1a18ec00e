"""Which API refusals are verdicts on the object and which are the API server's own trouble."""

from __future__ import annotations

import json

from k8s_operator.kube import KubeError


def _refusal(status: int, message: str) -> KubeError:
    body = json.dumps({"kind": "Status", "code": status, "message": message})
    return KubeError(status, "PATCH", "/api/v1/namespaces/ns/services/svc-43", body)


def test_a_422_caused_by_etcd_being_unreachable_is_a_storage_failure() -> None:
    # As kube-apiserver answered a Service apply while etcd restarted (a control-plane fault test).
    error = _refusal(
        422,
        'Service "svc-43" is invalid: spec.clusterIPs: Invalid value: [""]: failed to allocate '
        "IP: rpc error: code = Unavailable desc = error reading from server: read tcp "
        "127.0.0.1:43650->127.0.0.1:2379: read: connection reset by peer",
    )
    assert error.storage_failure


def test_a_real_validation_error_is_not() -> None:
    error = _refusal(
        422,
        'ConfigMap "web-config" is invalid: data[bad key]: Invalid value: "bad key": a valid '
        "config key must consist of alphanumeric characters, '-', '_' or '.'",
    )
    assert not error.storage_failure

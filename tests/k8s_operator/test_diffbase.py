"""The operator's essence of an object (what kopf's change detection compares) is kopf's own,
built from a copy of less: bodies with status, managed fields, kopf's and kubectl's annotations,
and handlers watching fields in the spec, the metadata or the status."""

from __future__ import annotations

import copy
from typing import Any, cast

import kopf
import pytest

from k8s_operator.diffbase import ObservedGenerationDiffBase

BODY: dict[str, Any] = {
    "apiVersion": "librechat.io/v1alpha1",
    "kind": "LibreChatService",
    "metadata": {
        "name": "search",
        "namespace": "chat",
        "uid": "0f1e",
        "resourceVersion": "812",
        "generation": 3,
        "labels": {"librechat.io/platform": "chat"},
        "annotations": {
            "team": "search",
            "kopf.zalando.org/last-handled-configuration": "{}",
            "kopf.zalando.org/touch-dummy": "x",
            "kubectl.kubernetes.io/last-applied-configuration": "{}",
        },
        "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
        "ownerReferences": [{"kind": "LibreChat", "name": "chat", "uid": "aa"}],
    },
    "spec": {"image": "ghcr.io/danny-avila/librechat-dev:v0.8.0", "config": {"A": "1"}},
    "status": {"observedGeneration": 3, "conditions": [{"type": "Ready", "status": "True"}]},
}


def _stock(storage: ObservedGenerationDiffBase, body: dict[str, Any], fields: Any) -> Any:
    """kopf's own build, unchanged."""
    return kopf.DiffBaseStorage.build(storage, body=cast(kopf.Body, body), extra_fields=fields)


@pytest.mark.parametrize(
    "fields",
    [None, [], [("spec",)], ["spec.config"], [("status", "conditions")], ["metadata.uid"]],
)
def test_the_essence_is_kopfs(fields: Any) -> None:
    storage = ObservedGenerationDiffBase({"LibreChatService"}, kopf.AnnotationsDiffBaseStorage())
    before = copy.deepcopy(BODY)
    ours = storage.build(body=cast(kopf.Body, BODY), extra_fields=fields)
    assert ours == _stock(storage, BODY, fields)
    assert before == BODY  # the body is left as it was


def test_bodies_without_metadata_parts_or_status() -> None:
    storage = ObservedGenerationDiffBase({"LibreChatService"}, kopf.AnnotationsDiffBaseStorage())
    bare = {"kind": "LibreChatService", "metadata": {"name": "x"}, "spec": {"image": "i"}}
    assert storage.build(body=cast(kopf.Body, bare)) == _stock(storage, bare, None)
    assert storage.build(body=cast(kopf.Body, bare)) == {"spec": {"image": "i"}}


def test_the_essence_is_a_copy() -> None:
    storage = ObservedGenerationDiffBase({"LibreChatService"}, kopf.AnnotationsDiffBaseStorage())
    body = copy.deepcopy(BODY)
    essence = cast(dict[str, Any], storage.build(body=cast(kopf.Body, body)))
    body["spec"]["config"]["A"] = "2"
    body["metadata"]["labels"]["new"] = "y"
    assert essence["spec"]["config"] == {"A": "1"}
    assert essence["metadata"]["labels"] == {"librechat.io/platform": "chat"}

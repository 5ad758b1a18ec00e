"""Where kopf keeps "the last spec handled" of each object.

kopf stores it in an annotation by default, which costs a patch of the object (and one more watch
event) after every handled change. A ``LibreChatService`` records the same fact in its status
anyway (``observedGeneration``, written by the operator when a spec is converged), so for that
kind the handled state is derived from the status and nothing is stored. Other kinds keep kopf's
annotation. (The children are not watched by kopf at all: :mod:`k8s_operator.childwatch`.)
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, cast

import kopf


class ObservedGenerationDiffBase(kopf.DiffBaseStorage):
    """For ``kinds``: handled when ``status.observedGeneration`` equals ``metadata.generation``;
    never handled when the status has none (kopf sees a creation); else the spec changed (kopf sees
    an update of ``spec``). Other kinds go to ``fallback``."""

    def __init__(self, kinds: Collection[str], fallback: kopf.DiffBaseStorage) -> None:
        super().__init__()
        self.kinds = frozenset(kinds)
        self.fallback = fallback

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None
    ) -> kopf.BodyEssence:
        """kopf's essence of ``body`` (what its change detection compares), from a copy of only
        what the essence keeps: kopf copies the whole body first, status and managed fields
        included, and then drops them, and that copy (twice per event) was a tenth of the
        operator's CPU. Extra fields in the metadata or the status (a handler watching one)
        take kopf's own way."""
        fields = list(extra_fields or ())
        dropped = ("metadata", "status")
        if any(_top(field) in dropped for field in fields):
            return super().build(body=body, extra_fields=fields)
        meta = body.get("metadata") or {}
        slim: dict[str, Any] = {k: v for k, v in body.items() if k not in dropped}
        slim["metadata"] = {k: meta[k] for k in ("labels", "annotations") if k in meta}
        return super().build(body=cast(kopf.Body, slim), extra_fields=fields)

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        if body.get("kind") not in self.kinds:
            return self.fallback.fetch(body=body)
        observed = (body.get("status") or {}).get("observedGeneration")
        if observed is None:
            return None
        essence: dict[str, Any] = dict(self.build(body=body))
        if observed != body.get("metadata", {}).get("generation"):
            # Not handled yet: a spec that differs from the current one, whatever it is.
            essence["spec"] = {"unhandled-generation": observed}
        return essence  # type: ignore[return-value]

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        if body.get("kind") not in self.kinds:
            self.fallback.store(body=body, patch=patch, essence=essence)


def _top(field: Any) -> str:
    """The top-level key of a kopf field (``"spec.replicas"`` or ``("spec", "replicas")``)."""
    return str(field.split(".")[0] if isinstance(field, str) else next(iter(field), ""))

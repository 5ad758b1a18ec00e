"""Where kopf keeps "the last spec handled" of each object.

kopf stores it in an annotation by default, which costs a patch of the object (and one more watch
event) after every handled change. A ``LibreChatService`` records the same fact in its status
anyway (``observedGeneration``, written by the operator when a spec is converged), so for that
kind the handled state is derived from the status and nothing is stored. Other kinds keep kopf's
annotation. (The children are not watched by kopf at all: :mod:`k8s_operator.childwatch`.)
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import kopf


class ObservedGenerationDiffBase(kopf.DiffBaseStorage):
    """For ``kinds``: handled when ``status.observedGeneration`` equals ``metadata.generation``;
    never handled when the status has none (kopf sees a creation); else the spec changed (kopf sees
    an update of ``spec``). Other kinds go to ``fallback``."""

    def __init__(self, kinds: Collection[str], fallback: kopf.DiffBaseStorage) -> None:
        super().__init__()
        self.kinds = frozenset(kinds)
        self.fallback = fallback

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

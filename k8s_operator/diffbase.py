"""Where kopf keeps "the last spec handled" of each object.

kopf stores it in an annotation by default, which costs a patch of the object (and one more watch
event) after every handled change. A ``LibreChatService`` records the same fact in its status
anyway (``observedGeneration``, written by the operator when a spec is converged), so for that
kind the handled state is derived from the status and nothing is stored. Other kinds keep kopf's
annotation.

kopf also builds every object's essence (a deep copy of the whole object) on every event, even of
kinds that only have event handlers and never need one. The operator watches its children that way,
and a Deployment with its managed fields is several kilobytes that change several times per pod:
for such ``watch_only`` kinds the essence is empty.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import kopf
from kopf._cogs.structs.dicts import FieldSpec


class ObservedGenerationDiffBase(kopf.DiffBaseStorage):
    """For ``kinds``: handled when ``status.observedGeneration`` equals ``metadata.generation``;
    never handled when the status has none (kopf sees a creation); else the spec changed (kopf sees
    an update of ``spec``). ``watch_only`` kinds (only ``kopf.on.event`` handlers, never a
    change-detecting one) have an empty essence. Other kinds go to ``fallback``."""

    def __init__(
        self,
        kinds: Collection[str],
        fallback: kopf.DiffBaseStorage,
        watch_only: Collection[str] = (),
    ) -> None:
        super().__init__()
        self.kinds = frozenset(kinds)
        self.watch_only = frozenset(watch_only)
        self.fallback = fallback

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[FieldSpec] | None = None
    ) -> kopf.BodyEssence:
        if body.get("kind") in self.watch_only:
            return {}
        return super().build(body=body, extra_fields=extra_fields)

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        if body.get("kind") in self.watch_only:
            return {}  # as built: no change, ever
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
        if body.get("kind") not in self.kinds | self.watch_only:
            self.fallback.store(body=body, patch=patch, essence=essence)

"""Label selectors in kubectl's string syntax, parsed up front.

What belongs here: turning ``app=web,tier!=db,canary,!legacy,zone in (a,b)`` into a
``LabelSelector`` object (``matchLabels`` + ``matchExpressions``, e.g. for a NetworkPolicy's
``podSelector``), and rejecting a malformed selector with a clear error before any API call.
Pure: no client.
"""

from __future__ import annotations

import re
from typing import Any

from chaos.errors import ChaosError

from .client import SELECTOR_HINT

_KEY = r"(?:[a-z0-9A-Z.\-]+/)?[A-Za-z0-9]([A-Za-z0-9_.\-]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([A-Za-z0-9_.\-]*[A-Za-z0-9])?)?"
_SET = re.compile(rf"^(?P<key>{_KEY})\s+(?P<op>in|notin)\s+\((?P<values>[^)]*)\)$")
_EQ = re.compile(rf"^(?P<key>{_KEY})\s*(?P<op>==|=|!=)\s*(?P<value>{_VALUE})$")
_EXISTS = re.compile(rf"^(?P<neg>!?)\s*(?P<key>{_KEY})$")


def _terms(selector: str) -> list[str]:
    """Split on commas outside parentheses."""
    terms, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current.strip())
            current = ""
        else:
            current += char
    terms.append(current.strip())
    return terms


def parse(selector: str) -> dict[str, Any]:
    """The ``LabelSelector`` for ``selector``; raises :class:`ChaosError` if it is malformed or
    empty (an empty selector would select everything: never what a fault means)."""
    if not selector.strip():
        raise ChaosError("the label selector is empty: it would select everything", SELECTOR_HINT)
    labels: dict[str, str] = {}
    expressions: list[dict[str, Any]] = []
    for term in _terms(selector):
        if match := _SET.match(term):
            values = sorted(v.strip() for v in match["values"].split(",") if v.strip())
            operator = "In" if match["op"] == "in" else "NotIn"
            expressions.append({"key": match["key"], "operator": operator, "values": values})
        elif match := _EQ.match(term):
            if match["op"] == "!=":
                expressions.append(
                    {"key": match["key"], "operator": "NotIn", "values": [match["value"]]}
                )
            else:
                labels[match["key"]] = match["value"]
        elif match := _EXISTS.match(term):
            operator = "DoesNotExist" if match["neg"] else "Exists"
            expressions.append({"key": match["key"], "operator": operator})
        else:
            raise ChaosError(f"invalid label selector {selector!r} at {term!r}", SELECTOR_HINT)
    result: dict[str, Any] = {}
    if labels:
        result["matchLabels"] = labels
    if expressions:
        result["matchExpressions"] = expressions
    return result

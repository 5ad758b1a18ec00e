"""The WAFv2 rules in front of CloudFront and their capacity (WCU), as pure data.

What belongs here: the rule list, the WCU arithmetic and its table. No resources.
"""

from __future__ import annotations

from typing import Any

MAX_WCU = 1500
"""Web ACL capacity budget (the default per-ACL limit of WAFv2)."""

MANAGED_GROUP_WCU = {
    "AWSManagedRulesCommonRuleSet": 700,
    "AWSManagedRulesKnownBadInputsRuleSet": 200,
    "AWSManagedRulesAmazonIpReputationList": 25,
}
"""Capacity of the AWS managed rule groups used (AWS WAF developer guide, managed rule list)."""

AUTH_PATHS = ("/api/auth/", "/oauth/")
"""LibreChat's login, refresh, registration and OAuth callback endpoints."""

AUTH_RATE_LIMIT = 1000
"""Requests per client IP per 5 minutes allowed on the auth endpoints."""

LARGE_BODY_PATHS = ("/api/files", "/api/agents/chat")
"""Where a body may pass the Common Rule Set's 8 KB limit: file uploads and the chat start (a
long prompt, pasted text). Everywhere else the limit still blocks."""

BODY_SIZE_RULE = "SizeRestrictions_BODY"
"""The Common Rule Set's rule that blocks bodies over 8 KB."""

BODY_SIZE_LABEL = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"
"""The label that rule adds to a request it matches (its action overridden to count)."""


def _visibility(metric: str) -> dict[str, Any]:
    return {
        "cloudwatch_metrics_enabled": True,
        "metric_name": metric,
        "sampled_requests_enabled": True,
    }


def _managed(name: str, priority: int, *, count: tuple[str, ...] = ()) -> dict[str, Any]:
    """An AWS managed group; the rules in ``count`` only count (and label) what they match."""
    group: dict[str, Any] = {"vendor_name": "AWS", "name": name}
    if count:
        group["rule_action_overrides"] = [
            {"name": rule, "action_to_use": {"count": {}}} for rule in count
        ]
    return {
        "name": name,
        "priority": priority,
        "override_action": {"none": {}},
        "statement": {"managed_rule_group_statement": group},
        "visibility_config": _visibility(name),
    }


def _starts_with(path: str) -> dict[str, Any]:
    return {
        "byte_match_statement": {
            "search_string": path,
            "positional_constraint": "STARTS_WITH",
            "field_to_match": {"uri_path": {}},
            "text_transformations": [{"priority": 0, "type": "NONE"}],
        }
    }


def web_acl_rules() -> list[dict[str, Any]]:
    """IP reputation, the common and known-bad-inputs groups, the common group's body limit
    everywhere but uploads and the chat start, and a rate limit on auth."""
    return [
        _managed("AWSManagedRulesAmazonIpReputationList", 0),
        _managed("AWSManagedRulesCommonRuleSet", 1, count=(BODY_SIZE_RULE,)),
        _managed("AWSManagedRulesKnownBadInputsRuleSet", 2),
        {
            "name": "large-body-outside-uploads-and-chat",
            "priority": 4,
            "action": {"block": {}},
            "statement": {
                "and_statement": {
                    "statements": [
                        {"label_match_statement": {"scope": "LABEL", "key": BODY_SIZE_LABEL}},
                        {
                            "not_statement": {
                                "statement": {
                                    "or_statement": {
                                        "statements": [_starts_with(p) for p in LARGE_BODY_PATHS]
                                    }
                                }
                            }
                        },
                    ]
                }
            },
            "visibility_config": _visibility("large-body-outside-uploads-and-chat"),
        },
        {
            "name": "rate-limit-auth",
            "priority": 3,
            "action": {"block": {}},
            "statement": {
                "rate_based_statement": {
                    "limit": AUTH_RATE_LIMIT,
                    "evaluation_window_sec": 300,
                    "aggregate_key_type": "IP",
                    "scope_down_statement": {
                        "or_statement": {"statements": [_starts_with(p) for p in AUTH_PATHS]}
                    },
                }
            },
            "visibility_config": _visibility("rate-limit-auth"),
        },
    ]


def statement_wcu(statement: dict[str, Any]) -> int:
    """Capacity of one statement, per the WAF developer guide's WCU rules."""
    if "managed_rule_group_statement" in statement:
        return MANAGED_GROUP_WCU[statement["managed_rule_group_statement"]["name"]]
    if "rate_based_statement" in statement:
        scope = statement["rate_based_statement"].get("scope_down_statement")
        return 2 + (statement_wcu(scope) if scope else 0)
    for logical in ("or_statement", "and_statement"):
        if logical in statement:
            return sum(statement_wcu(s) for s in statement[logical]["statements"])
    if "not_statement" in statement:
        return statement_wcu(statement["not_statement"]["statement"])
    if "label_match_statement" in statement:
        return 1
    if "byte_match_statement" in statement:
        match = statement["byte_match_statement"]
        base = 10 if match["positional_constraint"] in ("CONTAINS", "CONTAINS_WORD") else 2
        transforms = [t for t in match["text_transformations"] if t["type"] != "NONE"]
        return base + 10 * len(transforms)
    raise ValueError(f"no WCU rule for statement {sorted(statement)}")


def web_acl_wcu(rules: list[dict[str, Any]]) -> int:
    """Total capacity of a rule list."""
    return sum(statement_wcu(r["statement"]) for r in rules)

"""The edge: TLS >= 1.2, WAF rules within the WCU budget, Shield, DNS routing, us-east-1 pieces."""

from __future__ import annotations

from typing import Any

import pytest

from components.waf import (
    AUTH_PATHS,
    BODY_SIZE_LABEL,
    BODY_SIZE_RULE,
    MAX_WCU,
    statement_wcu,
    web_acl_rules,
    web_acl_wcu,
)

from .planning import plan_of, provider_region, snake

CLOUD = ("staging", "production")


@pytest.mark.parametrize("env", CLOUD)
def test_viewers_and_origins_use_tls_1_2_or_newer(env: str) -> None:
    (dist,) = plan_of(env).of_type("aws:cloudfront/distribution:Distribution")
    cert = dist.inputs["viewerCertificate"]
    assert cert["minimumProtocolVersion"] in ("TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.3_2025")
    assert cert["sslSupportMethod"] == "sni-only"
    for origin in dist.inputs["origins"]:
        custom = origin["customOriginConfig"]
        assert custom["originProtocolPolicy"] == "https-only"
        assert custom["originSslProtocols"] == ["TLSv1.2"]
    behaviours = [dist.inputs["defaultCacheBehavior"], *dist.inputs["orderedCacheBehaviors"]]
    assert all(b["viewerProtocolPolicy"] == "redirect-to-https" for b in behaviours)


@pytest.mark.parametrize("env", CLOUD)
def test_the_deployed_waf_is_the_rule_list_and_fits_the_wcu_budget(env: str) -> None:
    plan = plan_of(env)
    (acl,) = plan.of_type("aws:wafv2/webAcl:WebAcl")
    (dist,) = plan.of_type("aws:cloudfront/distribution:Distribution")
    assert acl.inputs["scope"] == "CLOUDFRONT"
    assert dist.inputs["webAclId"]
    deployed = snake(acl.inputs["rules"])
    assert deployed == snake(web_acl_rules())
    assert web_acl_wcu(deployed) <= MAX_WCU
    groups = {
        r["statement"]["managed_rule_group_statement"]["name"]
        for r in deployed
        if "managed_rule_group_statement" in r["statement"]
    }
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= groups
    (rate,) = [r for r in deployed if "rate_based_statement" in r["statement"]]
    scope = rate["statement"]["rate_based_statement"]["scope_down_statement"]["or_statement"]
    paths = {s["byte_match_statement"]["search_string"] for s in scope["statements"]}
    assert paths == set(AUTH_PATHS)
    assert rate["action"] == {"block": {}}


def test_wcu_arithmetic_follows_the_waf_rules() -> None:
    assert web_acl_wcu(web_acl_rules()) == 25 + 700 + 200 + 2 + 2 + 2 + (1 + 2 + 2)
    contains = {
        "byte_match_statement": {
            "positional_constraint": "CONTAINS",
            "text_transformations": [{"type": "LOWERCASE"}, {"type": "NONE"}],
        }
    }
    assert statement_wcu(contains) == 20
    with pytest.raises(ValueError, match="no WCU rule"):
        statement_wcu({"geo_match_statement": {}})


@pytest.mark.parametrize("env", CLOUD)
def test_certificate_waf_and_lambda_at_edge_live_in_us_east_1(env: str) -> None:
    plan = plan_of(env)
    for typ in (
        "aws:acm/certificate:Certificate",
        "aws:wafv2/webAcl:WebAcl",
        "aws:lambda/function:Function",
        "aws:cloudfront/distribution:Distribution",
    ):
        # The regional origins' certificates are their regions' (the load balancers').
        (res,) = [r for r in plan.of_type(typ) if "origin-cert" not in r.name]
        assert provider_region(plan, res) == "us-east-1", typ
    (fn,) = plan.of_type("aws:lambda/function:Function")
    assert fn.inputs["publish"] is True
    (dist,) = plan.of_type("aws:cloudfront/distribution:Distribution")
    (assoc,) = dist.inputs["defaultCacheBehavior"]["lambdaFunctionAssociations"]
    assert assoc["eventType"] == "origin-request"
    assert assoc["lambdaArn"].endswith(":1")


def test_shield_advanced_protects_production_only() -> None:
    prod = plan_of("production")
    protected = {p.inputs["resourceArn"] for p in prod.of_type("aws:shield/protection:Protection")}
    (dist,) = prod.of_type("aws:cloudfront/distribution:Distribution")
    assert any("hostedzone/" in arn for arn in protected)
    assert len(protected) == 2
    assert len(prod.of_type("aws:shield/subscription:Subscription")) == 1
    assert not plan_of("staging").of_type("aws:shield/protection:Protection")
    assert dist.inputs["enabled"] is True


def test_route53_routes_by_latency_with_health_checks_and_fails_over() -> None:
    plan = plan_of("production")
    checks = [
        c
        for c in plan.of_type("aws:route53/healthCheck:HealthCheck")
        if c.inputs["type"] == "HTTPS"
    ]
    assert len(checks) == 3
    assert all(c.inputs["resourcePath"] == "/health" for c in checks)
    records = plan.of_type("aws:route53/record:Record")
    latency = [r for r in records if "latencyRoutingPolicies" in r.inputs]
    assert sorted(r.inputs["latencyRoutingPolicies"][0]["region"] for r in latency) == [
        "ap-southeast-1",
        "eu-west-1",
        "us-east-1",
    ]
    assert all(r.inputs["healthCheckId"] for r in latency)
    failover = sorted(
        r.inputs["failoverRoutingPolicies"][0]["type"]
        for r in records
        if "failoverRoutingPolicies" in r.inputs
    )
    assert failover == ["PRIMARY", "SECONDARY"]


def test_each_region_serves_only_while_its_routing_control_is_on() -> None:
    """Route 53 ARC: a routing control per region (in ARC's us-west-2 control plane), a safety
    rule keeping one On, and every latency and failover record gated by a calculated check that
    needs both the region's origin and its control."""
    plan = plan_of("production")
    controls = {
        r.inputs["name"]: r
        for r in plan.of_type("aws:route53recoverycontrol/routingControl:RoutingControl")
    }
    assert sorted(controls) == ["ap-southeast-1", "eu-west-1", "us-east-1"]
    for control in controls.values():
        assert provider_region(plan, control) == "us-west-2"
    (rule,) = plan.of_type("aws:route53recoverycontrol/safetyRule:SafetyRule")
    assert rule.inputs["ruleConfig"] == {"inverted": False, "threshold": 1, "type": "ATLEAST"}
    assert sorted(rule.inputs["assertedControls"]) == sorted(
        f"arn:aws:mock:::{c.name}" for c in controls.values()
    )
    checks = {f"{c.name}-id": c for c in plan.of_type("aws:route53/healthCheck:HealthCheck")}
    records = [
        r
        for r in plan.of_type("aws:route53/record:Record")
        if "latencyRoutingPolicies" in r.inputs or "failoverRoutingPolicies" in r.inputs
    ]
    assert len(records) == 5
    for record in records:
        gate = checks[record.inputs["healthCheckId"]]
        assert gate.inputs["type"] == "CALCULATED"
        assert gate.inputs["childHealthThreshold"] == 2
        children = [checks[c] for c in gate.inputs["childHealthchecks"]]
        (https,) = [c for c in children if c.inputs["type"] == "HTTPS"]
        (arc,) = [c for c in children if c.inputs["type"] == "RECOVERY_CONTROL"]
        region = https.inputs["fqdn"].split(".origin.")[0]
        assert record.inputs["records"]
        assert region in gate.inputs["tags"]["Name"]
        assert arc.inputs["routingControlArn"] == f"arn:aws:mock:::{controls[region].name}"


def _matches(statement: dict[str, Any], path: str, labels: set[str]) -> bool:
    """WAF's meaning of the statements the body-size rule uses, for one request."""
    if "and_statement" in statement:
        return all(_matches(s, path, labels) for s in statement["and_statement"]["statements"])
    if "or_statement" in statement:
        return any(_matches(s, path, labels) for s in statement["or_statement"]["statements"])
    if "not_statement" in statement:
        return not _matches(statement["not_statement"]["statement"], path, labels)
    if "label_match_statement" in statement:
        return statement["label_match_statement"]["key"] in labels
    match = statement["byte_match_statement"]
    assert match["positional_constraint"] == "STARTS_WITH"
    assert match["field_to_match"] == {"uri_path": {}}
    return path.startswith(match["search_string"])


@pytest.mark.parametrize(
    ("path", "blocked"),
    [
        ("/api/files", False),  # an upload
        ("/api/files/images", False),
        ("/api/agents/chat/agents", False),  # the chat start: a long prompt
        ("/api/convos/update", True),
        ("/api/auth/login", True),
        ("/api/agents", True),  # agent definitions stay under the limit
    ],
)
def test_large_bodies_pass_only_on_uploads_and_the_chat_start(path: str, blocked: bool) -> None:
    rules = web_acl_rules()
    (common,) = [r for r in rules if r["name"] == "AWSManagedRulesCommonRuleSet"]
    overrides = common["statement"]["managed_rule_group_statement"]["rule_action_overrides"]
    # Only the body-size rule counts instead of blocking; the group's other rules still block.
    assert overrides == [{"name": BODY_SIZE_RULE, "action_to_use": {"count": {}}}]
    (rule,) = [r for r in rules if r["statement"].get("and_statement")]
    assert rule["action"] == {"block": {}}
    assert rule["priority"] > common["priority"]  # after the group has labelled the request
    assert _matches(rule["statement"], path, {BODY_SIZE_LABEL}) is blocked
    assert _matches(rule["statement"], path, set()) is False  # a small body always passes


@pytest.mark.parametrize("env", ["staging", "production"])
def test_waf_and_cloudfront_log_to_cloudwatch(env: str) -> None:
    plan = plan_of(env)
    (acl,) = plan.of_type("aws:wafv2/webAcl:WebAcl")
    (dist,) = plan.of_type("aws:cloudfront/distribution:Distribution")
    groups = {
        f"arn:aws:mock:::{g.name}": g for g in plan.of_type("aws:cloudwatch/logGroup:LogGroup")
    }
    (waf,) = plan.of_type("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    assert waf.inputs["resourceArn"] == f"arn:aws:mock:::{acl.name}"
    (target,) = waf.inputs["logDestinationConfigs"]
    assert groups[target].inputs["name"].startswith("aws-waf-logs-")
    redacted = {f["singleHeader"]["name"] for f in waf.inputs["redactedFields"]}
    assert redacted == {"authorization", "cookie"}
    (source,) = plan.of_type("aws:cloudwatch/logDeliverySource:LogDeliverySource")
    assert source.inputs["resourceArn"] == f"arn:aws:mock:::{dist.name}"
    assert source.inputs["logType"] == "ACCESS_LOGS"
    (destination,) = plan.of_type("aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination")
    configured = destination.inputs["deliveryDestinationConfiguration"]
    assert configured["destinationResourceArn"] in groups
    (delivery,) = plan.of_type("aws:cloudwatch/logDelivery:LogDelivery")
    assert delivery.inputs["deliverySourceName"] == source.inputs["name"]
    assert delivery.inputs["deliveryDestinationArn"] == f"arn:aws:mock:::{destination.name}"
    for typ in ("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",):
        for resource in plan.of_type(typ):
            assert provider_region(plan, resource) == "us-east-1"

"""Edge: CloudFront + WAFv2 + Shield + Route53 latency/failover records + ACM + Lambda@Edge.

What belongs here: the Edge component, its Args, and the pure pieces (distribution settings,
Lambda@Edge source). WAF rules are in :mod:`components.waf`. Everything here is global and is
created through the us-east-1 provider, as CloudFront requires.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from .common import assume_role_policy, child_opts
from .waf import web_acl_rules

MIN_VIEWER_TLS = "TLSv1.2_2021"
"""CloudFront security policy: TLS 1.2+ with strong ciphers for viewers."""

ORIGIN_TLS = ["TLSv1.2"]
"""CloudFront speaks only TLS 1.2 to the regional origins."""

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
"""AWS managed cache policy for the API (never cached)."""
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
"""AWS managed cache policy for static assets."""
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
"""AWS managed origin request policy that forwards headers, cookies and query strings."""


def edge_router_source(domain: str, regions: list[str]) -> str:
    """Lambda@Edge (origin-request): pin a client to its region when the ``lc_region`` cookie asks.

    Resumable SSE streams live in the region's Redis, so a reconnecting client must come back to
    the same region; everyone else follows Route53 latency routing.
    """
    return (
        "'use strict';\n"
        f"const REGIONS = new Set({json.dumps(regions)});\n"
        f"const DOMAIN = {json.dumps(domain)};\n"
        "exports.handler = async (event) => {\n"
        "  const request = event.Records[0].cf.request;\n"
        "  const cookies = (request.headers.cookie || []).map((h) => h.value).join(';');\n"
        "  const match = /(?:^|;\\s*)lc_region=([a-z0-9-]+)/.exec(cookies);\n"
        "  if (match && REGIONS.has(match[1]) && request.origin && request.origin.custom) {\n"
        "    const host = `${match[1]}.origin.${DOMAIN}`;\n"
        "    request.origin.custom.domainName = host;\n"
        "    request.headers.host = [{ key: 'Host', value: host }];\n"
        "  }\n"
        "  return request;\n"
        "};\n"
    )


def custom_origin(origin_id: str, host: str) -> dict[str, Any]:
    """A CloudFront origin reached over HTTPS/TLS 1.2 only."""
    return {
        "origin_id": origin_id,
        "domain_name": host,
        "custom_origin_config": {
            "http_port": 80,
            "https_port": 443,
            "origin_protocol_policy": "https-only",
            "origin_ssl_protocols": ORIGIN_TLS,
            "origin_read_timeout": 60,
            "origin_keepalive_timeout": 60,
        },
    }


@dataclass(frozen=True)
class RegionalOrigin:
    """One region's ingress as the edge sees it."""

    region: str
    """AWS region."""
    hostname: pulumi.Output[str]
    """Host name of the region's ingress load balancer (Kong's proxy)."""


@dataclass(frozen=True)
class EdgeArgs:
    """Inputs of :class:`Edge`."""

    prefix: str
    """Name prefix, e.g. ``lc-prod``."""
    domain: str
    """Public host name, e.g. ``chat.example.com``."""
    hosted_zone_id: str
    """Route53 zone holding ``domain``."""
    origins: list[RegionalOrigin]
    """Regional ingresses; the first is the failover primary."""
    shield_advanced: bool
    """Subscribe to Shield Advanced and protect the distribution and zone."""
    tags: dict[str, str]
    """Tags for every resource."""
    arc_provider: pulumi.ProviderResource | None = None
    """The AWS provider in ARC's control-plane region (us-west-2) for the recovery cluster and
    its routing controls; None: no routing controls (records follow health checks only)."""


EDGE_LOG_RETENTION_DAYS = 90
"""How long WAF's and CloudFront's logs are kept."""

ARC_REGION = "us-west-2"
"""Route 53 Application Recovery Controller's control-plane API lives here only."""


class Edge(pulumi.ComponentResource):
    """Global entry: TLS at CloudFront, WAF, DDoS protection and health-checked DNS routing, with
    a Route 53 ARC routing control per region that can drain it."""

    distribution_domain: pulumi.Output[str]
    routing_controls: dict[str, pulumi.Output[str]]
    """Region -> its routing control's ARN (empty without ARC)."""
    arc_cluster_endpoints: pulumi.Output[list[str]] | None
    """The recovery cluster's data-plane endpoints (where routing control states are set)."""

    def __init__(
        self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("librechat:edge:Edge", name, None, opts)
        self._args = args
        cert_arn = self._certificate(name)
        self.routing_controls, self.arc_cluster_endpoints = {}, None
        arc_checks = self._recovery_controls(name) if args.arc_provider is not None else {}
        self._regional_records(name, arc_checks)
        acl = aws.wafv2.WebAcl(
            f"{name}-waf",
            scope="CLOUDFRONT",
            default_action={"allow": {}},
            rules=cast("list[aws.wafv2.WebAclRuleArgsDict]", web_acl_rules()),
            visibility_config={
                "cloudwatch_metrics_enabled": True,
                "metric_name": f"{args.prefix}-waf",
                "sampled_requests_enabled": True,
            },
            tags=args.tags,
            opts=child_opts(self),
        )
        router = self._router(name)
        dist = self._distribution(name, cert_arn, acl.arn, router.qualified_arn)
        self._logging(name, acl, dist)
        for record_type in ("A", "AAAA"):
            aws.route53.Record(
                f"{name}-alias-{record_type.lower()}",
                zone_id=args.hosted_zone_id,
                name=args.domain,
                type=record_type,
                aliases=[
                    {
                        "name": dist.domain_name,
                        "zone_id": dist.hosted_zone_id,
                        "evaluate_target_health": False,
                    }
                ],
                opts=child_opts(self),
            )
        if args.shield_advanced:
            sub = aws.shield.Subscription(
                f"{name}-shield", auto_renew="ENABLED", opts=child_opts(self)
            )
            aws.shield.Protection(
                f"{name}-shield-cdn",
                name=f"{args.prefix}-cdn",
                resource_arn=dist.arn,
                tags=args.tags,
                opts=child_opts(self, depends_on=[sub]),
            )
            aws.shield.Protection(
                f"{name}-shield-dns",
                name=f"{args.prefix}-dns",
                resource_arn=f"arn:aws:route53:::hostedzone/{args.hosted_zone_id}",
                tags=args.tags,
                opts=child_opts(self, depends_on=[sub]),
            )
        self.distribution_domain = dist.domain_name
        self.register_outputs({"distribution_domain": dist.domain_name})

    def _certificate(self, name: str) -> pulumi.Output[str]:
        a = self._args
        cert = aws.acm.Certificate(
            f"{name}-cert",
            domain_name=a.domain,
            subject_alternative_names=[f"*.{a.domain}"],
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            tags=a.tags,
            opts=child_opts(self),
        )
        option = cert.domain_validation_options.apply(lambda opts: opts[0])
        record = aws.route53.Record(
            f"{name}-cert-validation",
            zone_id=a.hosted_zone_id,
            name=option.apply(lambda o: o.resource_record_name or ""),
            type=option.apply(lambda o: o.resource_record_type or "CNAME"),
            records=[option.apply(lambda o: o.resource_record_value or "")],
            ttl=300,
            allow_overwrite=True,
            opts=child_opts(self),
        )
        valid = aws.acm.CertificateValidation(
            f"{name}-cert",
            certificate_arn=cert.arn,
            validation_record_fqdns=[record.fqdn],
            opts=child_opts(self),
        )
        return valid.certificate_arn

    def _recovery_controls(self, name: str) -> dict[str, aws.route53.HealthCheck]:
        """A recovery cluster, a control panel, a routing control per region (On unless someone
        drains the region), a safety rule that keeps at least one On, and a Route 53 health
        check that follows each control."""
        a = self._args
        in_arc = pulumi.ResourceOptions(parent=self, provider=a.arc_provider)
        cluster = aws.route53recoverycontrol.Cluster(
            f"{name}-arc", name=f"{a.prefix}-arc", tags=a.tags, opts=in_arc
        )
        panel = aws.route53recoverycontrol.ControlPanel(
            f"{name}-arc",
            cluster_arn=cluster.arn,
            name=f"{a.prefix}-regions",
            tags=a.tags,
            opts=in_arc,
        )
        controls = {
            origin.region: aws.route53recoverycontrol.RoutingControl(
                f"{name}-arc-{origin.region}",
                cluster_arn=cluster.arn,
                control_panel_arn=panel.arn,
                name=origin.region,
                opts=in_arc,
            )
            for origin in a.origins
        }
        aws.route53recoverycontrol.SafetyRule(
            f"{name}-arc-one-region-on",
            name="at-least-one-region-on",
            control_panel_arn=panel.arn,
            asserted_controls=[c.arn for c in controls.values()],
            wait_period_ms=5000,
            rule_config={"inverted": False, "threshold": 1, "type": "ATLEAST"},
            tags=a.tags,
            opts=in_arc,
        )
        self.routing_controls = {region: c.arn for region, c in controls.items()}
        self.arc_cluster_endpoints = cluster.cluster_endpoints.apply(
            lambda endpoints: [e.endpoint or "" for e in endpoints or []]
        )
        return {
            region: aws.route53.HealthCheck(
                f"{name}-arc-{region}",
                type="RECOVERY_CONTROL",
                routing_control_arn=control.arn,
                tags={**a.tags, "Name": f"routing control {region}"},
                opts=child_opts(self),
            )
            for region, control in controls.items()
        }

    def _regional_records(self, name: str, arc_checks: dict[str, aws.route53.HealthCheck]) -> None:
        """Per-region names, health checks, latency records and failover records; with ARC, a
        region serves only while both its origin answers and its routing control is On."""
        a = self._args
        checks: dict[str, aws.route53.HealthCheck] = {}
        for origin in a.origins:
            host = f"{origin.region}.origin.{a.domain}"
            aws.route53.Record(
                f"{name}-{origin.region}",
                zone_id=a.hosted_zone_id,
                name=host,
                type="CNAME",
                ttl=60,
                records=[origin.hostname],
                opts=child_opts(self),
            )
            checks[origin.region] = aws.route53.HealthCheck(
                f"{name}-{origin.region}",
                fqdn=host,
                type="HTTPS",
                port=443,
                resource_path="/health",
                request_interval=10,
                failure_threshold=3,
                measure_latency=True,
                enable_sni=True,
                tags={**a.tags, "Name": host},
                opts=child_opts(self),
            )
            if origin.region in arc_checks:
                checks[origin.region] = aws.route53.HealthCheck(
                    f"{name}-serving-{origin.region}",
                    type="CALCULATED",
                    child_healthchecks=[
                        checks[origin.region].id,
                        arc_checks[origin.region].id,
                    ],
                    child_health_threshold=2,
                    tags={**a.tags, "Name": f"{origin.region} serving"},
                    opts=child_opts(self),
                )
            aws.route53.Record(
                f"{name}-latency-{origin.region}",
                zone_id=a.hosted_zone_id,
                name=f"origin.{a.domain}",
                type="CNAME",
                ttl=60,
                set_identifier=origin.region,
                latency_routing_policies=[{"region": origin.region}],
                health_check_id=checks[origin.region].id,
                records=[origin.hostname],
                opts=child_opts(self),
            )
        for role, origin in zip(("PRIMARY", "SECONDARY"), a.origins[:2], strict=False):
            aws.route53.Record(
                f"{name}-failover-{role.lower()}",
                zone_id=a.hosted_zone_id,
                name=f"failover.origin.{a.domain}",
                type="CNAME",
                ttl=60,
                set_identifier=f"{role.lower()}-{origin.region}",
                failover_routing_policies=[{"type": role}],
                health_check_id=checks[origin.region].id,
                records=[origin.hostname],
                opts=child_opts(self),
            )

    def _logging(self, name: str, acl: aws.wafv2.WebAcl, dist: aws.cloudfront.Distribution) -> None:
        """WAF's decisions and CloudFront's access logs, each into a CloudWatch log group (in
        us-east-1, with the edge); credentials and cookies are redacted from WAF's log."""
        a = self._args
        waf_logs = aws.cloudwatch.LogGroup(
            f"{name}-waf-logs",
            name=f"aws-waf-logs-{a.prefix}",  # WAF writes only to groups named so
            retention_in_days=EDGE_LOG_RETENTION_DAYS,
            tags=a.tags,
            opts=child_opts(self),
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-waf-logs",
            resource_arn=acl.arn,
            log_destination_configs=[waf_logs.arn],
            redacted_fields=[
                {"single_header": {"name": "authorization"}},
                {"single_header": {"name": "cookie"}},
            ],
            opts=child_opts(self),
        )
        cdn_logs = aws.cloudwatch.LogGroup(
            f"{name}-cdn-logs",
            name=f"/aws/cloudfront/{a.prefix}",
            retention_in_days=EDGE_LOG_RETENTION_DAYS,
            tags=a.tags,
            opts=child_opts(self),
        )
        source = aws.cloudwatch.LogDeliverySource(
            f"{name}-cdn-logs",
            name=f"{a.prefix}-cdn-access",
            log_type="ACCESS_LOGS",
            resource_arn=dist.arn,
            tags=a.tags,
            opts=child_opts(self),
        )
        destination = aws.cloudwatch.LogDeliveryDestination(
            f"{name}-cdn-logs",
            name=f"{a.prefix}-cdn-access",
            delivery_destination_configuration={"destination_resource_arn": cdn_logs.arn},
            output_format="json",
            tags=a.tags,
            opts=child_opts(self),
        )
        aws.cloudwatch.LogDelivery(
            f"{name}-cdn-logs",
            delivery_source_name=source.name,
            delivery_destination_arn=destination.arn,
            tags=a.tags,
            opts=child_opts(self),
        )

    def _router(self, name: str) -> aws.lambda_.Function:
        a = self._args
        role = aws.iam.Role(
            f"{name}-router",
            assume_role_policy=assume_role_policy(
                "lambda.amazonaws.com", "edgelambda.amazonaws.com"
            ),
            tags=a.tags,
            opts=child_opts(self),
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-router",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            opts=child_opts(self),
        )
        source = edge_router_source(a.domain, [o.region for o in a.origins])
        return aws.lambda_.Function(
            f"{name}-router",
            runtime="nodejs20.x",
            handler="index.handler",
            role=role.arn,
            code=pulumi.AssetArchive({"index.js": pulumi.StringAsset(source)}),
            publish=True,
            memory_size=128,
            timeout=5,
            tags=a.tags,
            opts=child_opts(self),
        )

    def _distribution(
        self,
        name: str,
        cert_arn: pulumi.Output[str],
        acl_arn: pulumi.Output[str],
        router_arn: pulumi.Output[str],
    ) -> aws.cloudfront.Distribution:
        a = self._args
        origins = [custom_origin("latency", f"origin.{a.domain}")]
        static_target = "latency"
        groups: list[dict[str, Any]] = []
        if len(a.origins) > 1:
            origins.append(custom_origin("failover", f"failover.origin.{a.domain}"))
            static_target = "static"
            groups.append(
                {
                    "origin_id": "static",
                    "failover_criteria": {"status_codes": [500, 502, 503, 504]},
                    "members": [{"origin_id": "failover"}, {"origin_id": "latency"}],
                }
            )
        return aws.cloudfront.Distribution(
            f"{name}-cdn",
            enabled=True,
            aliases=[a.domain],
            http_version="http2and3",
            is_ipv6_enabled=True,
            price_class="PriceClass_All",
            origins=cast("list[aws.cloudfront.DistributionOriginArgsDict]", origins),
            origin_groups=cast("list[aws.cloudfront.DistributionOriginGroupArgsDict]", groups),
            default_cache_behavior={
                "target_origin_id": "latency",
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                "cached_methods": ["GET", "HEAD"],
                "cache_policy_id": CACHING_DISABLED,
                "origin_request_policy_id": ALL_VIEWER,
                "compress": True,
                "lambda_function_associations": [
                    {
                        "event_type": "origin-request",
                        "lambda_arn": router_arn,
                        "include_body": False,
                    }
                ],
            },
            ordered_cache_behaviors=[
                {
                    "path_pattern": "/assets/*",
                    "target_origin_id": static_target,
                    "viewer_protocol_policy": "redirect-to-https",
                    "allowed_methods": ["GET", "HEAD", "OPTIONS"],
                    "cached_methods": ["GET", "HEAD"],
                    "cache_policy_id": CACHING_OPTIMIZED,
                    "compress": True,
                }
            ],
            viewer_certificate={
                "acm_certificate_arn": cert_arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": MIN_VIEWER_TLS,
            },
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            web_acl_id=acl_arn,
            tags=a.tags,
            opts=child_opts(self),
        )

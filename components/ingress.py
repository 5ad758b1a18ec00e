"""The one way in to a region: the origin's certificate, the security groups that admit only
CloudFront (and Route 53's health checkers), the AWS Load Balancer Controller that makes the
load balancer, and the Kong Service it is made for.

What belongs here: the RegionalIngress component and its Args (AWS resources of one region), and
the pure pieces: the origin's host names, the controller's IAM policy, its Helm values and the
``kong-edge`` Service. Route 53 and CloudFront themselves are in :mod:`components.edge`.

The path, hop by hop: ``<domain>`` (Route 53 alias) -> CloudFront (WAF, Shield) ->
``origin.<domain>`` / ``failover.origin.<domain>`` -> ``<region>.origin.<domain>`` (a CNAME to
the load balancer) -> the NLB the controller makes for ``kong/kong-edge`` (TLS with this
module's ACM certificate, security groups that admit CloudFront's origin-facing prefix list and
Route 53's health checkers only) -> Kong's HTTP port -> the route's LibreChat pool
(:mod:`components.kong_config`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .cluster import irsa_trust_policy
from .common import child_opts, named

CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
"""AWS's managed prefix list of CloudFront's addresses towards origins."""

EDGE_NAMESPACE = "kong"
EDGE_SERVICE = "kong-edge"
"""The Service the controller turns into the region's internet-facing NLB."""

KONG_PROXY_PORT = 8000
"""Kong's plain-HTTP proxy port in its pods (the chart's ``proxy.http.containerPort``)."""

KONG_POD_LABELS = {"app.kubernetes.io/name": "kong", "app.kubernetes.io/instance": "kong"}
"""The labels the Kong chart gives its pods (release ``kong``)."""

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
"""The NLB's TLS listener: TLS 1.3 and 1.2 only."""

CONTROLLER_NAMESPACE = "kube-system"
CONTROLLER_ACCOUNT = "aws-load-balancer-controller"
"""The controller's ServiceAccount (the chart's default), which its IRSA role trusts."""


def health_check_prefix_list(region: str) -> str:
    """AWS's managed prefix list of Route 53's health checkers, as seen from ``region``."""
    return f"com.amazonaws.{region}.route53-healthchecks"


def origin_hosts(region: str, domain: str) -> list[str]:
    """The names CloudFront and Route 53 reach this region's origin by (the certificate's)."""
    return [f"{region}.origin.{domain}", f"origin.{domain}", f"failover.origin.{domain}"]


def controller_policy() -> str:
    """What the AWS Load Balancer Controller does for Network Load Balancers with security
    groups, and nothing more: read the VPC, manage its own security groups, load balancers,
    target groups and listeners (tagged ``elbv2.k8s.aws/cluster`` when it made them), register
    pods as targets and read ACM certificates. Every action is named (no wildcard)."""
    own_tag = {"Null": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}}
    new_tag = {"Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}}
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ServiceLinkedRole",
            "Effect": "Allow",
            "Action": ["iam:CreateServiceLinkedRole"],
            "Resource": ["*"],
            "Condition": {
                "StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}
            },
        },
        {
            "Sid": "Read",
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeAccountAttributes",
                "ec2:DescribeAddresses",
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInternetGateways",
                "ec2:DescribeVpcs",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeInstances",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeTags",
                "ec2:DescribeManagedPrefixLists",
                "ec2:GetSecurityGroupsForVpc",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeListenerAttributes",
                "elasticloadbalancing:DescribeListenerCertificates",
                "elasticloadbalancing:DescribeSSLPolicies",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeTags",
                "acm:ListCertificates",
                "acm:DescribeCertificate",
            ],
            "Resource": ["*"],
        },
        {
            "Sid": "OwnSecurityGroups",
            "Effect": "Allow",
            "Action": [
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupIngress",
            ],
            "Resource": ["*"],
        },
        {
            "Sid": "CreateTaggedSecurityGroups",
            "Effect": "Allow",
            "Action": ["ec2:CreateSecurityGroup", "ec2:CreateTags"],
            "Resource": ["*"],
            "Condition": new_tag,
        },
        {
            "Sid": "DeleteOwnSecurityGroups",
            "Effect": "Allow",
            "Action": ["ec2:DeleteSecurityGroup", "ec2:DeleteTags"],
            "Resource": ["*"],
            "Condition": own_tag,
        },
        {
            "Sid": "CreateTaggedLoadBalancers",
            "Effect": "Allow",
            "Action": [
                "elasticloadbalancing:CreateLoadBalancer",
                "elasticloadbalancing:CreateTargetGroup",
                "elasticloadbalancing:AddTags",
            ],
            "Resource": ["*"],
            "Condition": new_tag,
        },
        {
            "Sid": "ManageOwnLoadBalancers",
            "Effect": "Allow",
            "Action": [
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:SetIpAddressType",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
                "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:RemoveTags",
                "elasticloadbalancing:AddTags",
            ],
            "Resource": ["*"],
            "Condition": own_tag,
        },
        {
            "Sid": "Listeners",
            "Effect": "Allow",
            "Action": [
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyListenerAttributes",
                "elasticloadbalancing:AddListenerCertificates",
                "elasticloadbalancing:RemoveListenerCertificates",
            ],
            "Resource": ["*"],
        },
        {
            "Sid": "Targets",
            "Effect": "Allow",
            "Action": [
                "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:DeregisterTargets",
            ],
            "Resource": ["arn:aws:elasticloadbalancing:*:*:targetgroup/*/*"],
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def controller_values(
    *, cluster_name: Any, region: str, vpc_id: Any, role_arn: Any, image: tuple[str, str]
) -> dict[str, Any]:
    """The controller chart's values: which cluster and VPC, its IRSA role, two replicas and the
    versions table's image (repository, tag). Values may be Outputs."""
    return {
        "clusterName": cluster_name,
        "region": region,
        "vpcId": vpc_id,
        "replicaCount": 2,
        "image": {"repository": image[0], "tag": image[1]},
        "serviceAccount": {
            "create": True,
            "name": CONTROLLER_ACCOUNT,
            "annotations": {"eks.amazonaws.com/role-arn": role_arn},
        },
        # Security groups on NLBs, and the rules to Kong's pods managed by the controller.
        "enableBackendSecurityGroup": True,
    }


def edge_service(*, certificate_arn: Any, security_groups: Any) -> dict[str, Any]:
    """The region's ingress: an internet-facing NLB (made by the AWS Load Balancer Controller)
    that terminates TLS with the origin's certificate and forwards to Kong's HTTP port, behind
    ``security_groups`` (a comma-separated string of ids; may be an Output)."""
    prefix = "service.beta.kubernetes.io/aws-load-balancer"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": EDGE_SERVICE,
            "namespace": EDGE_NAMESPACE,
            "annotations": {
                f"{prefix}-type": "external",
                f"{prefix}-nlb-target-type": "ip",
                f"{prefix}-scheme": "internet-facing",
                f"{prefix}-ssl-cert": certificate_arn,
                f"{prefix}-ssl-ports": "443",
                f"{prefix}-ssl-negotiation-policy": TLS_POLICY,
                f"{prefix}-backend-protocol": "tcp",
                f"{prefix}-security-groups": security_groups,
                f"{prefix}-manage-backend-security-group-rules": "true",
            },
        },
        "spec": {
            "type": "LoadBalancer",
            "externalTrafficPolicy": "Local",
            "selector": dict(KONG_POD_LABELS),
            "ports": [
                {"name": "https", "port": 443, "targetPort": KONG_PROXY_PORT, "protocol": "TCP"}
            ],
        },
    }


@dataclass(frozen=True)
class RegionalIngressArgs:
    """Inputs of :class:`RegionalIngress`."""

    prefix: str
    """Name prefix, e.g. ``lc-prod-use1``."""
    region: str
    domain: str
    """The public host name; the origin's names are under ``origin.<domain>``."""
    hosted_zone_id: str
    """The Route 53 zone that validates the certificate."""
    vpc_id: pulumi.Output[str]
    vpc_cidr: str
    """The load balancer reaches Kong's pods in this CIDR only."""
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    tags: dict[str, str]


class RegionalIngress(pulumi.ComponentResource):
    """The origin certificate, the security groups of the one way in, and the controller's
    IRSA role, in one region."""

    certificate_arn: pulumi.Output[str]
    security_groups: pulumi.Output[str]
    """The two group ids, comma-separated (the Service annotation's form)."""
    controller_role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: RegionalIngressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("librechat:ingress:RegionalIngress", name, None, opts)
        self._args = args
        self.certificate_arn = self._certificate(name)
        groups = [
            self._admit(name, "cloudfront", CLOUDFRONT_PREFIX_LIST, "CloudFront origin-facing"),
            self._admit(
                name,
                "healthchecks",
                health_check_prefix_list(args.region),
                "Route 53 health checkers",
            ),
        ]
        self.security_groups = pulumi.Output.all(*(g.id for g in groups)).apply(",".join)
        role = aws.iam.Role(
            f"{name}-lb-controller",
            description="AWS Load Balancer Controller, through IRSA",
            assume_role_policy=pulumi.Output.all(
                args.oidc_provider_arn, args.oidc_issuer_url
            ).apply(
                lambda v: irsa_trust_policy(v[0], v[1], CONTROLLER_NAMESPACE, CONTROLLER_ACCOUNT)
            ),
            tags=args.tags,
            opts=child_opts(self),
        )
        aws.iam.RolePolicy(
            f"{name}-lb-controller", role=role.id, policy=controller_policy(), opts=child_opts(self)
        )
        self.controller_role_arn = role.arn
        self.register_outputs({"certificate_arn": self.certificate_arn})

    def _certificate(self, name: str) -> pulumi.Output[str]:
        """An ACM certificate for the origin's names, validated in the hosted zone."""
        a = self._args
        hosts = origin_hosts(a.region, a.domain)
        cert = aws.acm.Certificate(
            f"{name}-origin-cert",
            domain_name=hosts[0],
            subject_alternative_names=hosts[1:],
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            tags=a.tags,
            opts=child_opts(self),
        )
        records = [self._validation_record(name, cert, i) for i in range(len(hosts))]
        valid = aws.acm.CertificateValidation(
            f"{name}-origin-cert",
            certificate_arn=cert.arn,
            validation_record_fqdns=[r.fqdn for r in records],
            opts=child_opts(self),
        )
        return valid.certificate_arn

    def _validation_record(
        self, name: str, cert: aws.acm.Certificate, index: int
    ) -> aws.route53.Record:
        """The DNS record that proves the zone owns the certificate's ``index``-th name."""
        option = cert.domain_validation_options.apply(lambda options: options[index])
        return aws.route53.Record(
            f"{name}-origin-cert-{index}",
            zone_id=self._args.hosted_zone_id,
            name=option.apply(lambda o: o.resource_record_name or ""),
            type=option.apply(lambda o: o.resource_record_type or "CNAME"),
            records=[option.apply(lambda o: o.resource_record_value or "")],
            ttl=300,
            allow_overwrite=True,
            opts=child_opts(self),
        )

    def _admit(self, name: str, suffix: str, prefix_list: str, who: str) -> aws.ec2.SecurityGroup:
        """A security group admitting HTTPS from one AWS-managed prefix list only (each in a
        group of its own: CloudFront's list alone weighs 55 of a group's 60 rules)."""
        a = self._args
        found = aws.ec2.get_managed_prefix_list_output(name=prefix_list)
        return aws.ec2.SecurityGroup(
            f"{name}-from-{suffix}",
            description=f"The origin's load balancer: HTTPS from {who} only",
            vpc_id=a.vpc_id,
            ingress=[
                {
                    "protocol": "tcp",
                    "from_port": 443,
                    "to_port": 443,
                    "prefix_list_ids": [found.id],
                    "description": f"HTTPS from {who}",
                }
            ],
            egress=[
                {
                    "protocol": "tcp",
                    "from_port": KONG_PROXY_PORT,
                    "to_port": KONG_PROXY_PORT,
                    "cidr_blocks": [a.vpc_cidr],
                    "description": "To Kong's pods",
                }
            ],
            tags=named(a.tags, f"{a.prefix}-from-{suffix}"),
            opts=child_opts(self),
        )

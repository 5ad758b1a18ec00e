"""Every hop of a request is connected, and there is one way in.

The rendered plan is walked as a request travels: the public name (Route 53) -> CloudFront ->
the origin names -> each region's origin record -> the load balancer made for ``kong/kong-edge``
(TLS with a certificate for those names) -> Kong's pods and port -> Kong's declarative routes ->
the Services the operator makes of the region's ``LibreChat`` -> the pods of their Deployments,
with the NetworkPolicies on the way. A dangling name, port or selector fails it. Then every
internet-facing load balancer must admit CloudFront's origin-facing addresses (and Route 53's
health checkers) and nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from components.ingress import (
    CLOUDFRONT_PREFIX_LIST,
    EDGE_SERVICE,
    KONG_POD_LABELS,
    health_check_prefix_list,
    origin_hosts,
)
from components.kong_config import CONFIG_FILE, CONFIG_MAP_NAME, ROUTES
from components.plan import Plan
from components.stackfile import default_program_dir, load_stack
from k8s_operator import children
from k8s_operator.model import ServiceSpec
from k8s_operator.platform import api_service, inventory_services

from .planning import plan_of, region_of, unwrap

CLOUDS = ("staging", "production")


def _domain(env: str) -> str:
    return str(load_stack(default_program_dir(), env).config["librechat:domain"])


def _in_region(plan: Plan, typ: str, region: str) -> list[Any]:
    return [r for r in plan.of_type(typ) if region_of(plan, r) == region]


def _regions(plan: Plan) -> list[str]:
    return [r.name for r in plan.of_type("librechat:environment:Region")]


def _named(plan: Plan, typ: str, name: str, region: str) -> Any:
    (found,) = [r for r in _in_region(plan, typ, region) if r.inputs["metadata"]["name"] == name]
    return found


def _records(plan: Plan, name: str) -> list[Any]:
    return [r for r in plan.of_type("aws:route53/record:Record") if r.inputs["name"] == name]


def _librechat(plan: Plan, region: str) -> dict[str, Any]:
    (cr,) = [
        r for r in plan.resources if r.type.endswith(":LibreChat") and region_of(plan, r) == region
    ]
    return {
        "metadata": {"name": cr.inputs["metadata"]["name"], "namespace": "librechat", "uid": "u"},
        "spec": unwrap(cr.inputs["spec"]),
    }


def _operator_services(body: dict[str, Any]) -> dict[str, ServiceSpec]:
    """The services the operator makes of a LibreChat resource, as it reads them back."""
    made = [api_service(body, body["spec"]["version"]), *inventory_services(body)]
    return {
        s["metadata"]["name"]: ServiceSpec.from_resource(
            {**s, "metadata": {**s["metadata"], "uid": "u"}}
        )
        for s in made
    }


@pytest.mark.parametrize("env", CLOUDS)
def test_every_hop_of_a_request_is_connected(env: str) -> None:
    plan = plan_of(env)
    domain = _domain(env)
    (dist,) = plan.of_type("aws:cloudfront/distribution:Distribution")

    # The public name is CloudFront.
    aliases = _records(plan, domain)
    assert aliases
    assert {a.inputs["aliases"][0]["name"] for a in aliases} == {f"{dist.name}.cloudfront.mock"}

    # CloudFront's origins are names this zone holds, each pointing at a regional origin.
    origin_names = {o["domainName"] for o in dist.inputs["origins"]}
    assert f"origin.{domain}" in origin_names
    for region in _regions(plan):
        edge = _named(plan, "kubernetes:core/v1:Service", EDGE_SERVICE, region)
        lb_host = f"{edge.name}.elb.mock"  # the load balancer the controller made for it
        (regional,) = _records(plan, f"{region}.origin.{domain}")
        assert regional.inputs["records"] == [lb_host]
        for name in origin_names:
            targets = {tuple(r.inputs["records"]) for r in _records(plan, name)}
            assert targets, name
            assert targets <= {(f"{r}.elb.mock",) for r in _edge_names(plan)}, name

        # The load balancer speaks TLS with a certificate for every name it is reached by.
        annotations = edge.inputs["metadata"]["annotations"]
        prefix = "service.beta.kubernetes.io/aws-load-balancer"
        (cert,) = [
            c
            for c in _in_region(plan, "aws:acm/certificate:Certificate", region)
            if "origin-cert" in c.name
        ]
        hosts = [cert.inputs["domainName"], *cert.inputs["subjectAlternativeNames"]]
        assert sorted(hosts) == sorted(origin_hosts(region, domain))
        assert origin_names <= set(hosts)
        assert annotations[f"{prefix}-ssl-cert"] == f"arn:aws:mock:::{cert.name}"
        assert annotations[f"{prefix}-ssl-ports"] == "443"
        (port,) = edge.inputs["spec"]["ports"]
        assert port["port"] == 443

        # ... to Kong's pods, on the port Kong's chart listens on.
        (kong,) = [
            r
            for r in _in_region(plan, "kubernetes:helm.sh/v3:Release", region)
            if r.inputs["name"] == "kong"
        ]
        values = unwrap(kong.inputs["values"])
        assert edge.inputs["spec"]["selector"] == KONG_POD_LABELS
        assert KONG_POD_LABELS["app.kubernetes.io/instance"] == kong.inputs["name"]
        assert port["targetPort"] == values["proxy"]["http"]["containerPort"]
        assert values["ingressController"]["enabled"] is False
        assert values["dblessConfig"]["configMap"] == CONFIG_MAP_NAME

        # Kong's routes go to Services the operator makes, on their ports, selecting pods.
        config_map = _named(plan, "kubernetes:core/v1:ConfigMap", CONFIG_MAP_NAME, region)
        assert config_map.inputs["metadata"]["namespace"] == kong.inputs["namespace"]
        kong_config = yaml.safe_load(config_map.inputs["data"][CONFIG_FILE])
        services = _operator_services(_librechat(plan, region))
        routed = set()
        for service in kong_config["services"]:
            host, _, port_text = service["url"].removeprefix("http://").partition(":")
            name, namespace = host.split(".")[:2]
            target = services[name]
            assert namespace == target.namespace
            made = children.service(target)
            assert made["spec"]["ports"][0]["port"] == int(port_text)
            pods = children.deployment(target)["spec"]["template"]["metadata"]["labels"]
            assert made["spec"]["selector"].items() <= pods.items()
            assert target.public, f"{name} must admit Kong's namespace"
            routed |= {p for r in service["routes"] for p in r["paths"]}
        assert routed == {p for r in ROUTES for p in r.paths}

        # Rate limiting counts in the region's own (non-cluster) Redis, over TLS, with a
        # password Kong reads from a Secret; every route limits the body it accepts.
        (limiter,) = [g for g in kong_config["plugins"] if g["name"] == "rate-limiting"]
        (redis,) = [
            g
            for g in _in_region(plan, "aws:elasticache/replicationGroup:ReplicationGroup", region)
            if "ratelimit" in g.name
        ]
        assert "numNodeGroups" not in redis.inputs  # one node answers every key
        assert limiter["config"]["policy"] == "redis"
        assert limiter["config"]["redis"]["host"] == f"master.{redis.name}.cache.mock"
        assert limiter["config"]["redis"]["ssl"] is True
        assert values["env"]["redis_password"]["valueFrom"]["secretKeyRef"]["name"] == "kong-redis"
        assert _named(plan, "kubernetes:core/v1:Secret", "kong-redis", region)
        for service in kong_config["services"]:
            assert [p["name"] for p in service["plugins"]] == ["request-size-limiting"]

        # The namespaces' own policies let Kong in, and let Kong out to LibreChat.
        policies = _in_region(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", region)
        kong_in = _peers(policies, "librechat", "allow-ingress", ("ingress", "from"))
        assert {"kubernetes.io/metadata.name": "kong"} in kong_in
        kong_out = _peers(policies, "kong", "allow-egress", ("egress", "to"))
        assert {"kubernetes.io/metadata.name": "librechat"} in kong_out


def _peers(
    policies: list[Any], namespace: str, policy: str, where: tuple[str, str]
) -> list[dict[str, str]]:
    """The namespaces a policy of ``namespace`` names as peers."""
    (found,) = [
        p for p in policies if p.inputs["metadata"] == {"name": policy, "namespace": namespace}
    ]
    direction, key = where
    return [
        peer.get("namespaceSelector", {}).get("matchLabels", {})
        for rule in found.inputs["spec"][direction]
        for peer in rule[key]
    ]


def _edge_names(plan: Plan) -> list[str]:
    return [
        r.name
        for r in plan.of_type("kubernetes:core/v1:Service")
        if r.inputs["metadata"]["name"] == EDGE_SERVICE
    ]


@pytest.mark.parametrize("env", CLOUDS)
def test_no_internet_facing_load_balancer_admits_anyone_but_cloudfront(env: str) -> None:
    plan = plan_of(env)
    groups = {f"{g.name}-id": g for g in plan.of_type("aws:ec2/securityGroup:SecurityGroup")}
    public = [
        s
        for s in plan.of_type("kubernetes:core/v1:Service")
        if s.inputs.get("spec", {}).get("type") == "LoadBalancer"
    ]
    assert len(public) == len(_regions(plan))
    for service in public:
        region = region_of(plan, service)
        annotations = service.inputs["metadata"]["annotations"]
        prefix = "service.beta.kubernetes.io/aws-load-balancer"
        assert annotations[f"{prefix}-scheme"] == "internet-facing"
        attached = annotations[f"{prefix}-security-groups"].split(",")
        admitted = set()
        for group_id in attached:
            group = groups[group_id]
            for rule in group.inputs["ingress"]:
                assert not rule.get("cidrBlocks"), group.name
                assert not rule.get("ipv6CidrBlocks"), group.name
                assert (rule["fromPort"], rule["toPort"]) == (443, 443)
                admitted |= set(rule["prefixListIds"])
        expected = {
            f"pl-mock-{CLOUDFRONT_PREFIX_LIST}",
            f"pl-mock-{health_check_prefix_list(region)}",
        }
        assert admitted == expected
    # No other way in: no chart makes a load balancer of its own, no AWS load balancer is
    # declared outside the controller.
    assert not plan.of_type("aws:lb/loadBalancer:LoadBalancer")
    for release in plan.of_type("kubernetes:helm.sh/v3:Release"):
        values = unwrap(release.inputs.get("values", {}))
        proxy = values.get("proxy", {}) if isinstance(values, dict) else {}
        assert proxy.get("type", "ClusterIP") == "ClusterIP", release.name

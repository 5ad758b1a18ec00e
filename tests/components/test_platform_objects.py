"""The in-cluster platform: Pod Security, default-deny policies, Helm releases, LibreChat CRs."""

from __future__ import annotations

from typing import Any

import pytest

from components.k8s_objects import PRIVILEGED_NAMESPACES, network_policies, platform_namespaces
from components.librechat import API_VERSION
from components.platform import rendered_objects

from .planning import ENVS, edge_for, plan_of


def _objects(kind: str) -> list[dict[str, object]]:
    return rendered_objects(
        kind=kind,
        region="eu-west-1",
        image_tag="v1",
        labels={"project": "librechat"},
        kms_key_arn="arn:k",
        edge=edge_for(kind),
    )


@pytest.mark.parametrize("kind", ENVS)
def test_namespaces_enforce_restricted_except_the_documented_ones(kind: str) -> None:
    namespaces = [o for o in _objects(kind) if o["kind"] == "Namespace"]
    assert len(namespaces) == len(platform_namespaces(kind))
    for ns in namespaces:
        meta = ns["metadata"]
        labels = meta["labels"]  # type: ignore[index]
        expected = "privileged" if meta["name"] in PRIVILEGED_NAMESPACES else "restricted"  # type: ignore[index]
        assert labels["pod-security.kubernetes.io/enforce"] == expected
        assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    restricted = [n for n in platform_namespaces(kind) if n not in PRIVILEGED_NAMESPACES]
    assert len(restricted) >= len(platform_namespaces(kind)) - 1


@pytest.mark.parametrize("kind", ENVS)
def test_every_namespace_denies_all_traffic_by_default(kind: str) -> None:
    names = platform_namespaces(kind)
    policies = [o for o in _objects(kind) if o["kind"] == "NetworkPolicy"]
    for ns in names:
        deny = [p for p in policies if p["metadata"] == {"name": "default-deny", "namespace": ns}]
        assert deny
        assert deny[0]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_policies_only_admit_the_listed_namespaces() -> None:
    names = platform_namespaces("production")
    (ingress,) = [
        p
        for p in network_policies("librechat-data", names)
        if p["metadata"]["name"] == "allow-ingress"
    ]
    peers = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for rule in ingress["spec"]["ingress"]
        for peer in rule["from"]
    }
    assert peers == {"librechat-data", "librechat", "keycloak", "monitoring"}


def test_librechat_custom_resource_is_rendered_for_the_region() -> None:
    objs: list[dict[str, Any]] = _objects("production")
    (app,) = [o for o in objs if o["apiVersion"] == API_VERSION]
    spec = app["spec"]
    assert spec["region"] == "eu-west-1"
    assert spec["redis"]["keyPrefix"] == "librechat:eu-west-1:"
    assert spec["redis"]["urlSecretRef"] == {"name": "librechat-shared", "key": "REDIS_URI"}
    assert spec["secretsRef"] == {"name": "librechat-shared"}
    assert "services" not in spec  # the operator runs the whole inventory by default


def test_operator_is_installed_with_its_crds_and_least_privilege_rbac() -> None:
    objs: list[dict[str, Any]] = _objects("staging")
    assert [o["kind"] for o in objs].count("CustomResourceDefinition") == 4
    roles = [o for o in objs if o["kind"] == "ClusterRole"]
    (role,) = [r for r in roles if r["metadata"]["name"] == "librechat-operator"]
    for rule in role["rules"]:
        assert "*" not in rule["verbs"]
        assert "*" not in rule["resources"]
        assert "secrets" not in rule["resources"]
    (deployment,) = [o for o in objs if o["kind"] == "Deployment"]
    assert deployment["spec"]["replicas"] == 2  # one leads (the Lease), one waits
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][:3] == ["python", "-m", "k8s_operator"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["LIBRECHAT_OPERATOR_LEADER_ELECTION"] == "true"
    (lease_role,) = [
        o for o in objs if o["kind"] == "Role" and o["metadata"]["name"].endswith("-lease")
    ]
    assert {v for r in lease_role["rules"] for v in r["verbs"]} == {"get", "update", "create"}


def test_encrypted_storage_class_uses_the_regions_key() -> None:
    (sc,) = [o for o in _objects("staging") if o["kind"] == "StorageClass"]
    assert sc["parameters"] == {"type": "gp3", "encrypted": "true", "kmsKeyId": "arn:k"}


@pytest.mark.parametrize(
    ("env", "releases"),
    [
        (
            "production",
            {
                "cert-manager",
                "kong",
                "keycloak",
                "kube-prometheus-stack",
                "timescaledb",
                "meilisearch",
                "aws-load-balancer-controller",
            },
        ),
        ("laptop", {"kube-prometheus-stack", "meilisearch", "mongodb", "redis", "postgresql"}),
    ],
)
def test_helm_releases_per_environment(env: str, releases: set[str]) -> None:
    plan = plan_of(env)
    planned = plan.of_type("kubernetes:helm.sh/v3:Release")
    per_region = {r.inputs["name"] for r in planned}
    assert releases == per_region
    assert all(r.inputs["version"] for r in planned)
    regions = len(plan.of_type("librechat:environment:Region"))
    assert len(planned) == regions * len(per_region)


@pytest.mark.parametrize("env", ENVS)
def test_planned_kubernetes_objects_match_the_rendered_ones(env: str) -> None:
    plan = plan_of(env)
    kinds = {
        "kubernetes:core/v1:Namespace": "Namespace",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy": "NetworkPolicy",
        "kubernetes:librechat.io/v1alpha1:LibreChatService": "LibreChatService",
        "kubernetes:core/v1:Service": "Service",
    }
    regions = len(plan.of_type("librechat:environment:Region"))
    kind = "laptop" if env == "laptop" else env
    for typ, k in kinds.items():
        rendered = [o for o in _objects(kind) if o["kind"] == k]
        assert len(plan.of_type(typ)) == regions * len(rendered), typ


def test_regional_ingress_feeds_the_edge_records() -> None:
    plan = plan_of("production")
    services = plan.of_type("kubernetes:core/v1:Service")
    assert len(services) == 3
    assert all(s.inputs["spec"]["type"] == "LoadBalancer" for s in services)
    regional = [
        r
        for r in plan.of_type("aws:route53/record:Record")
        if r.inputs["name"].endswith(".origin.chat.example.com")
        and r.inputs["name"].split(".")[0] in {"us-east-1", "eu-west-1", "ap-southeast-1"}
    ]
    assert len(regional) == 3
    assert all(r.inputs["records"][0].endswith(".elb.mock") for r in regional)


def test_storage_class_is_encrypted_with_the_regions_data_key() -> None:
    plan = plan_of("staging")
    (sc,) = plan.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
    assert sc.inputs["parameters"]["encrypted"] == "true"
    assert sc.inputs["parameters"]["kmsKeyId"] == "arn:aws:mock:::lc-stg-use1-data-data"

"""Every image the plans deploy is real, public and pinned, and declared once (the versions table).

Walked: every resource input of every committed stack's plan (Deployments, Helm values), and each
region's ``LibreChat`` resource as the operator would expand it into services. No registry is
reachable here, so "real" is held to the table: a public registry, a release tag, one row per
image, and the rows the README's image table lists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.errors import ConfigError
from components.plan import Plan, plan_env
from components.stackfile import default_program_dir
from k8s_operator import images
from k8s_operator.inventory import ELSEWHERE, INVENTORY, LIBRECHAT_IMAGE
from k8s_operator.platform import api_service, inventory_services
from localplatform import litellm

from .planning import ENVS, plan_of, unwrap

ROOT = Path(__file__).resolve().parents[2]

SEED_SERVICES = (
    "identity", "conversation", "assistant", "file", "notification", "ai-gateway", "streaming",
    "search", "rate-limiting", "caching", "ai-orchestrator", "ml-pipeline", "vector-embedding",
    "analytics-engine", "event-store", "configuration", "monitoring",
)  # fmt: skip
"""The seed's 17 services (seed/architecture.md, DESIGN.md §3)."""

OPERATOR_REPOSITORY = "librechat-ops"


def _images_in(value: Any) -> Iterator[str]:
    """Every image reference in a resource's inputs: ``image`` strings, and Helm's
    ``image: {repository, tag}`` values."""
    value = unwrap(value)
    if isinstance(value, dict):
        for key, raw in value.items():
            item = unwrap(raw)
            if key == "image" and isinstance(item, str):
                yield item
            elif key == "image" and isinstance(item, dict) and "repository" in item:
                registry = f"{item['registry']}/" if "registry" in item else ""
                yield f"{registry}{item['repository']}:{item['tag']}"
            else:
                yield from _images_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _images_in(item)


def _librechat_resources(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "metadata": {"name": "librechat", "namespace": "librechat", "uid": "u"},
            "spec": r.inputs["spec"],
        }
        for r in plan.resources
        if r.type.endswith(":LibreChat")
    ]


def _expanded(body: dict[str, Any]) -> list[str]:
    """The images of the services the operator makes of a LibreChat resource."""
    version = body["spec"]["version"]
    services = [api_service(body, version), *inventory_services(body)]
    return [s["spec"]["image"] for s in services]


def _deployed(plan: Plan) -> list[str]:
    # A LibreChat's ``image`` is a repository (its tag is the version): read it expanded.
    refs = [
        ref
        for r in plan.resources
        if not r.type.endswith(":LibreChat")
        for ref in _images_in(r.inputs)
    ]
    for body in _librechat_resources(plan):
        refs += _expanded(body)
    return refs


def test_every_row_of_the_table_is_public_and_pinned() -> None:
    for row in images.IMAGES.values():
        images.check_reference(row.ref)
        assert row.published


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("ghcr.io/berriai/litellm", "no tag"),
        ("ghcr.io/berriai/litellm:latest", "not a pinned release tag"),
        ("registry.librechat.ai/platform/search:v1", "not on a public registry"),
        ("getmeili/meilisearch:v1.35.1", "not on a public registry"),
        ("quay.io/keycloak/keycloak@sha256:abc", "sha256:<64 hex digits>"),
    ],
)
def test_the_reference_check_refuses_what_no_one_could_pull_for_sure(ref: str, why: str) -> None:
    with pytest.raises(images.ImageError, match=why):
        images.check_reference(ref)


def test_a_digest_or_a_registry_port_is_pinned() -> None:
    images.check_reference("quay.io/keycloak/keycloak@sha256:" + "a" * 64)
    images.check_reference("registry.example.com:5000/librechat-ops:0.1.0", public=False)
    with pytest.raises(images.ImageError, match="no tag"):
        images.check_reference("registry.example.com:5000/librechat-ops", public=False)


@pytest.mark.parametrize("env", ENVS)
def test_every_image_a_plan_deploys_is_pinned_and_public_or_the_projects_own(env: str) -> None:
    refs = _deployed(plan_of(env))
    table = {row.ref for row in images.IMAGES.values()}
    assert len(refs) > 10
    for ref in refs:
        repository, _, _ = images.split(ref)
        if repository.rsplit("/", 1)[-1] == OPERATOR_REPOSITORY:
            images.check_reference(ref, public=False)
            continue
        images.check_reference(ref)
        assert ref in table or repository == LIBRECHAT_IMAGE, f"{ref} is not in the table"
    used = {images.split(ref)[0] for ref in refs}
    assert LIBRECHAT_IMAGE in used
    assert {
        "ghcr.io/berriai/litellm-non_root",
        "ghcr.io/danny-avila/librechat-rag-api-dev-lite",
    } <= used
    assert {row.repository for row in images.IMAGES.values()} - used <= {
        # Not in every environment: the pause image is the autoscaler's headroom (made by the
        # operator at run time), pgvector is the clouds' migration Job's, Kong, Keycloak and
        # the load balancer controller run in the clouds, the Bitnami stores on the laptop.
        "registry.k8s.io/pause",
        "docker.io/pgvector/pgvector",
        "docker.io/library/kong",
        "quay.io/keycloak/keycloak",
        "public.ecr.aws/eks/aws-load-balancer-controller",
        "docker.io/bitnamilegacy/mongodb",
        "docker.io/bitnamilegacy/redis",
        "docker.io/bitnamilegacy/postgresql",
    }


def test_the_librechat_pools_run_the_release_the_stack_pins() -> None:
    plan = plan_of("staging")
    (body,) = _librechat_resources(plan)
    pools = [s for s in INVENTORY if s.route_pool]
    expanded = {s["metadata"]["name"]: s["spec"] for s in inventory_services(body)}
    for pool in pools:
        assert expanded[f"librechat-{pool.name}"]["image"] == f"{LIBRECHAT_IMAGE}:v0.8.8-rc1"
        assert expanded[f"librechat-{pool.name}"]["envFromSecret"] == "librechat-shared"


def test_the_inventory_and_the_services_elsewhere_cover_the_seed_once() -> None:
    names = [s.name for s in INVENTORY] + [e.name for e in ELSEWHERE]
    assert sorted(names) == sorted(SEED_SERVICES)
    for service in INVENTORY:
        assert service.image is None or service.image in images.IMAGES
    for moved in ELSEWHERE:
        assert moved.reason
        assert moved.realized_by


def test_the_readme_lists_every_image_and_every_service() -> None:
    readme = (ROOT / "README.md").read_text()
    for row in images.IMAGES.values():
        assert f"`{row.repository}`" in readme, row
        assert f"`{row.tag}`" in readme, row
    for name in SEED_SERVICES:
        assert f"| {name} |" in readme, name


def test_the_gateway_image_is_the_release_the_local_gateway_runs() -> None:
    assert images.IMAGES["litellm"].tag == f"v{litellm.VERSION}"


def test_a_stack_replaces_a_row_and_the_operator_deploys_it() -> None:
    mirror = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mirror/litellm-non_root:v1.108.7"
    plan = plan_env(
        "staging", default_program_dir(), {"librechat:images": json.dumps({"litellm": mirror})}
    )
    (body,) = _librechat_resources(plan)
    assert body["spec"]["images"] == {"litellm": mirror}
    assert mirror in _expanded(body)


def test_a_stack_replaces_a_charts_image() -> None:
    mirror = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mirror/keycloak:26.7.4"
    plan = plan_env(
        "staging", default_program_dir(), {"librechat:images": json.dumps({"keycloak": mirror})}
    )
    (keycloak,) = [r for r in plan.resources if r.type.endswith("Release") and "keycloak" in r.name]
    assert mirror in list(_images_in(keycloak.inputs))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("librechat:images", {"litellm": "ghcr.io/berriai/litellm:latest"}, "not a pinned"),
        ("librechat:images", {"postgres": "docker.io/library/postgres:16"}, "not an image of"),
        ("librechat:images", {"litellm": 3}, "must be a string"),
        ("librechat:operatorImage", None, "required"),
        ("librechat:operatorImage", "librechat-ops", "no tag"),
    ],
)
def test_bad_image_settings_name_their_key(key: str, value: Any, message: str) -> None:
    raw = None if value is None else value if isinstance(value, str) else json.dumps(value)
    with pytest.raises(ConfigError, match=message) as info:
        plan_env("staging", default_program_dir(), {key: raw})
    assert info.value.key.startswith(key)


def test_the_operator_runs_the_stacks_image() -> None:
    for env in ("staging", "production"):
        deployments = [
            r for r in plan_of(env).resources if r.type == "kubernetes:apps/v1:Deployment"
        ]
        refs = {ref for d in deployments for ref in _images_in(d.inputs)}
        assert any(ref.endswith("/librechat-ops:0.1.0") and ".dkr.ecr." in ref for ref in refs)

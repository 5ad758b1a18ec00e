"""Every third-party container image the toolkit deploys, declared once: the versions table.

What belongs here: :data:`IMAGES` (a name -> repository and pinned tag, with where the tag is
published), the rules every image reference must pass (:func:`check_reference`: a public
registry, a tag or digest, never ``latest``) and the per-stack override merge
(:func:`with_overrides`). The operator's inventory, the Pulumi components' Helm values and the
rendered objects all read their images from here; a stack overrides a row with
``librechat:images``.

The two images not in the table: LibreChat's own API image, whose tag is each ``LibreChat``
resource's ``spec.version`` (the stack's ``librechat:imageTag``), and this project's image (the
operator, the toolkit and chaostoolkit), which a team builds from the Dockerfile and pushes to its
own registry (``librechat:operatorImage``).

No registry is reachable from the machine that runs the tests, so a test cannot pull a tag: each
row names where its tag is seen published, and the README's image table repeats it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace


class ImageError(ValueError):
    """An image reference that is not public and pinned, or an override of an unknown row."""


@dataclass(frozen=True)
class Image:
    """One image: repository (registry host first) and pinned tag."""

    repository: str
    """``<registry>/<path>``; Docker Hub images carry ``docker.io/`` explicitly."""
    tag: str
    """A release tag, never ``latest``; an override may add ``@sha256:...`` or give only
    ``@sha256:...``."""
    published: str
    """Where this tag is seen published (a release page, a chart, a compose file)."""

    @property
    def ref(self) -> str:
        """``repository:tag`` (or ``repository@digest``, ``repository:tag@digest``)."""
        return self.repository + (self.tag if self.tag.startswith("@") else f":{self.tag}")


LIBRECHAT_API_REPOSITORY = "ghcr.io/danny-avila/librechat-api"
"""LibreChat's API-only image (no web client build); its tag is the platform's release. Its
release workflow pushes ``v*`` tags here, release candidates included (``v0.8.2-rc1``,
``v0.8.8-rc4`` are pulled by other projects)."""

IMAGES: Mapping[str, Image] = {
    "litellm": Image(
        "ghcr.io/berriai/litellm-non_root",
        "v1.108.7",
        "LiteLLM's release workflow (plain v<version> tags since v1.100; non-root variant for "
        "Pod Security restricted); the same release localplatform.litellm installs from PyPI",
    ),
    "rag-api": Image(
        "ghcr.io/danny-avila/librechat-rag-api-dev-lite",
        "v0.9.0",
        "danny-avila/rag_api release workflow (docker-build-workflow.yaml pushes the git tag)",
    ),
    "text-embeddings-inference": Image(
        "ghcr.io/huggingface/text-embeddings-inference",
        "cpu-1.8",
        "huggingface/text-embeddings-inference releases (cpu-<major.minor> tags)",
    ),
    "keycloak": Image(
        "quay.io/keycloak/keycloak",
        "26.7.4",
        "keycloak/keycloak releases, quay.io/keycloak/keycloak",
    ),
    "meilisearch": Image(
        "docker.io/getmeili/meilisearch",
        "v1.35.1",
        "LibreChat's deploy-compose.yml (the Meilisearch release LibreChat tests against)",
    ),
    "kong": Image(
        "docker.io/library/kong",
        "3.9.1",
        "Docker Hub official image kong (Kong Gateway OSS 3.9.1)",
    ),
    "pgvector": Image(
        "docker.io/pgvector/pgvector",
        "0.8.0-pg16",
        "pgvector/pgvector on Docker Hub (LibreChat's compose pins 0.8.0 for the RAG API)",
    ),
    "bitnami-mongodb": Image(
        "docker.io/bitnamilegacy/mongodb",
        "8.0.3-debian-12-r0",
        "Bitnami's legacy repository (the mongodb chart 16.3.0's own tag, moved there when "
        "Bitnami stopped serving versioned tags under docker.io/bitnami in 2025)",
    ),
    "bitnami-redis": Image(
        "docker.io/bitnamilegacy/redis",
        "7.4.1-debian-12-r2",
        "Bitnami's legacy repository (the redis chart 20.x's tag)",
    ),
    "bitnami-postgresql": Image(
        "docker.io/bitnamilegacy/postgresql",
        "16.4.0-debian-12-r13",
        "Bitnami's legacy repository (Bitnami's PostgreSQL image carries pgvector)",
    ),
    "aws-load-balancer-controller": Image(
        "public.ecr.aws/eks/aws-load-balancer-controller",
        "v2.14.0",
        "kubernetes-sigs/aws-load-balancer-controller releases (chart 1.14.0 ships v2.14.0)",
    ),
    "pause": Image(
        "registry.k8s.io/pause",
        "3.10",
        "Kubernetes' pause image (kubeadm's default sandbox image for 1.31-1.33)",
    ),
}
"""The versions table: every third-party image by name."""

PUBLIC_REGISTRIES = ("docker.io", "ghcr.io", "quay.io", "registry.k8s.io", "public.ecr.aws")
"""Registries anyone can pull from without an account."""

_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def split(ref: str) -> tuple[str, str | None, str | None]:
    """``ref`` as (repository, tag, digest); a registry's port is not taken for a tag."""
    name, _, digest = ref.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :], digest or None
    return name, None, digest or None


def check_reference(ref: str, *, public: bool = True) -> None:
    """Raise :class:`ImageError` unless ``ref`` names a tag other than ``latest`` (or a digest)
    and, when ``public``, lives on one of :data:`PUBLIC_REGISTRIES` (host written out)."""
    repository, tag, digest = split(ref)
    if digest is not None and not _DIGEST.match(digest):
        raise ImageError(f"{ref!r}: the digest must be sha256:<64 hex digits>")
    if tag is None and digest is None:
        raise ImageError(f"{ref!r} has no tag: pin a release tag or a digest")
    if tag is not None and (not _TAG.match(tag) or tag == "latest"):
        raise ImageError(f"{ref!r}: {tag!r} is not a pinned release tag")
    host = repository.split("/", 1)[0]
    if public and host not in PUBLIC_REGISTRIES:
        raise ImageError(
            f"{ref!r} is not on a public registry (one of {', '.join(PUBLIC_REGISTRIES)}, "
            "host written out)"
        )


def with_overrides(overrides: Mapping[str, str]) -> dict[str, Image]:
    """The table with rows replaced by ``name -> repository:tag`` overrides (a stack's
    ``librechat:images``); raises :class:`ImageError` for an unknown name or a reference that
    is not pinned (an override may name a private registry: a mirror is a team's choice)."""
    table = dict(IMAGES)
    for name, ref in overrides.items():
        if name not in table:
            raise ImageError(f"{name!r} is not an image of the table; known: {sorted(table)}")
        check_reference(ref, public=False)
        repository, tag, digest = split(ref)
        pinned = f"{tag or ''}@{digest}" if digest is not None else str(tag)
        table[name] = replace(table[name], repository=repository, tag=pinned, published="")
    return table

"""The RAG API's database migration, run for real: the Job's script against PostgreSQL 16 with
pgvector (``tests/postgres_server``), as Aurora's master user would run it. It creates the
``vector`` extension and the RAG API's own role, which can then store and search embeddings
with its password (and not without it); run again, it changes nothing but a rotated password."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from components.datastores import AURORA_MASTER_USER
from components.rag_database import (
    DATABASE,
    JOB_NAME,
    MIGRATION_SCRIPT,
    MIGRATION_SECRET,
    RAG_SECRET,
    ROLE,
    migration_job,
)
from components.stackfile import placeholder
from k8s_operator.images import IMAGES
from k8s_operator.inventory import RAG_SERVICE as RAG
from k8s_operator.platform import inventory_services
from tests.postgres_server import Postgres, postgres

from .planning import plan_of, unwrap

PASSWORD = 'it\'s a "quoted" pass; DROP ROLE rag;--'
"""Quotes, a semicolon and SQL in the password: it must arrive as data, never as SQL."""


@pytest.fixture(scope="module")
def server() -> Iterator[Postgres]:
    with postgres() as running:
        running.sql(f"CREATE DATABASE {DATABASE}")
        yield running


def _migrate(server: Postgres, password: str) -> None:
    job = migration_job(namespace="librechat", image=IMAGES["pgvector"].ref, labels={})
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["sh", "-ec", MIGRATION_SCRIPT]
    env = server.env(PGDATABASE=DATABASE, RAG_PASSWORD=password)
    done = server.run(container["command"], env)
    assert done.returncode == 0, done.stderr


def _as_rag(server: Postgres, query: str, password: str = PASSWORD) -> str:
    return server.sql(query, PGUSER=ROLE, PGPASSWORD=password, PGDATABASE=DATABASE)


def test_the_migration_makes_the_extension_and_a_role_that_can_use_it(server: Postgres) -> None:
    _migrate(server, PASSWORD)
    version = server.sql(
        "SELECT extversion FROM pg_extension WHERE extname = 'vector'", PGDATABASE=DATABASE
    )
    assert version
    assert (
        server.sql(
            f"SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = '{ROLE}'"
        )
        == "f|f|f"
    )
    _as_rag(server, "CREATE TABLE chunks (id int, embedding vector(3))")
    _as_rag(server, "INSERT INTO chunks VALUES (1, '[1,0,0]'), (2, '[0,1,0]')")
    assert (
        _as_rag(server, "SELECT id FROM chunks ORDER BY embedding <-> '[0.9,0.1,0]' LIMIT 1") == "1"
    )
    with pytest.raises(RuntimeError, match="password authentication failed"):
        _as_rag(server, "SELECT 1", password="wrong")


def test_the_migration_is_idempotent_and_rotates_the_password(server: Postgres) -> None:
    _migrate(server, PASSWORD)
    _migrate(server, PASSWORD)
    assert server.sql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{ROLE}'") == "1"
    _migrate(server, "rotated")
    assert _as_rag(server, "SELECT current_user", password="rotated") == ROLE
    with pytest.raises(RuntimeError, match="password authentication failed"):
        _as_rag(server, "SELECT 1")


def test_the_job_runs_restricted_with_only_its_own_secret() -> None:
    job = migration_job(namespace="librechat", image=IMAGES["pgvector"].ref, labels={})
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["envFrom"] == [{"secretRef": {"name": "rag-db-migration"}}]
    assert container["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["automountServiceAccountToken"] is False


@pytest.mark.parametrize("env", ["staging", "production"])
def test_every_region_migrates_and_the_rag_api_connects_as_its_own_role(env: str) -> None:
    plan = plan_of(env)
    regions = plan.of_type("librechat:environment:Region")
    jobs = [j for j in plan.of_type("kubernetes:batch/v1:Job") if JOB_NAME in j.name]
    assert len(jobs) == len(regions)
    for job in jobs:
        (container,) = job.inputs["spec"]["template"]["spec"]["containers"]
        assert container["image"] == IMAGES["pgvector"].ref
    secrets = {
        (s.name, s.inputs["metadata"]["name"]): unwrap(s.inputs["stringData"])
        for s in plan.of_type("kubernetes:core/v1:Secret")
    }
    rag = [v for (_, n), v in secrets.items() if n == RAG_SECRET]
    migration = [v for (_, n), v in secrets.items() if n == MIGRATION_SECRET]
    assert len(rag) == len(migration) == len(regions)
    for values in rag:
        assert values["POSTGRES_USER"] == ROLE
        assert values["POSTGRES_DB"] == DATABASE
        assert values["POSTGRES_PASSWORD"] == placeholder("librechat:ragDbPassword")
    for values in migration:
        assert values["PGUSER"] == AURORA_MASTER_USER
        assert values["PGSSLMODE"] == "require"
        assert values["RAG_PASSWORD"] == placeholder("librechat:ragDbPassword")
    for cr in (r for r in plan.resources if r.type.endswith(":LibreChat")):
        body = {"metadata": {"name": "librechat", "namespace": "librechat", "uid": "u"}}
        body["spec"] = unwrap(cr.inputs["spec"])
        (rag_api,) = [s for s in inventory_services(body) if s["metadata"]["name"].endswith(RAG)]
        assert rag_api["spec"]["envFromSecret"] == RAG_SECRET

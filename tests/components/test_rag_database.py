"""The RAG API's database migration, run for real: the Job's script against PostgreSQL 16 with
pgvector (``tests/postgres_server``), as Aurora's master user would run it. It creates the
``vector`` extension and the RAG API's own role, which can then store and search embeddings
with its password (and not without it); run again, it changes nothing but a rotated password."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from components.datastores import AURORA_MASTER_USER
from components.rag_database import (
    DATABASE,
    JOB_NAME,
    KEYCLOAK_ROLE,
    MIGRATION_SCRIPT,
    MIGRATION_SECRET,
    RAG_SECRET,
    ROLE,
    migration_job,
)
from components.stackfile import default_program_dir, load_stack, placeholder
from k8s_operator.images import IMAGES
from k8s_operator.inventory import RAG_SERVICE as RAG
from k8s_operator.platform import inventory_services
from tests.postgres_server import Postgres, postgres

from .planning import plan_of, region_of, unwrap

PASSWORD = 'it\'s a "quoted" pass; DROP ROLE rag;--'
"""Quotes, a semicolon and SQL in the password: it must arrive as data, never as SQL."""


@pytest.fixture(scope="module")
def server() -> Iterator[Postgres]:
    with postgres() as running:
        running.sql(f"CREATE DATABASE {DATABASE}")
        yield running


def _migrate(server: Postgres, password: str, keycloak: str = "keycloak-secret") -> None:
    job = migration_job(namespace="librechat", image=IMAGES["pgvector"].ref, labels={})
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["sh", "-ec", MIGRATION_SCRIPT]
    env = server.env(PGDATABASE=DATABASE, RAG_PASSWORD=password, KEYCLOAK_PASSWORD=keycloak)
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


def test_keycloak_gets_its_own_role_and_database_and_nobody_else_may_enter_it(
    server: Postgres,
) -> None:
    _migrate(server, PASSWORD, keycloak="kc 'quoted'")
    as_keycloak = {"PGUSER": KEYCLOAK_ROLE, "PGPASSWORD": "kc 'quoted'", "PGDATABASE": "keycloak"}
    server.sql("CREATE TABLE realm (id text primary key)", **as_keycloak)
    owner = server.sql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname='keycloak'")
    assert owner == KEYCLOAK_ROLE
    with pytest.raises(RuntimeError, match="permission denied for database"):
        server.sql("SELECT 1", PGUSER=ROLE, PGPASSWORD=PASSWORD, PGDATABASE="keycloak")


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
def test_the_primary_migrates_and_every_region_connects_as_its_own_roles(env: str) -> None:
    plan = plan_of(env)
    primary = json.loads(load_stack(default_program_dir(), env).config["librechat:regions"])[0]
    jobs = [j for j in plan.of_type("kubernetes:batch/v1:Job") if JOB_NAME in j.name]
    assert [region_of(plan, j) for j in jobs] == [primary]  # DDL is not forwarded
    (container,) = jobs[0].inputs["spec"]["template"]["spec"]["containers"]
    assert container["image"] == IMAGES["pgvector"].ref
    secrets = [
        (region_of(plan, s), s.inputs["metadata"]["name"], unwrap(s.inputs["stringData"]))
        for s in plan.of_type("kubernetes:core/v1:Secret")
    ]
    (migration,) = [v for r, n, v in secrets if n == MIGRATION_SECRET and r == primary]
    assert [r for r, n, _ in secrets if n == MIGRATION_SECRET] == [primary]
    assert migration["PGUSER"] == AURORA_MASTER_USER
    assert migration["PGSSLMODE"] == "require"
    assert migration["RAG_PASSWORD"] == placeholder("librechat:ragDbPassword")
    assert migration["KEYCLOAK_PASSWORD"] == placeholder("librechat:keycloakDbPassword")
    clusters = {region_of(plan, c): c.name for c in plan.of_type("aws:rds/cluster:Cluster")}
    for region, name, values in secrets:
        if name == RAG_SECRET:
            assert values["POSTGRES_USER"] == ROLE
            assert values["POSTGRES_DB"] == DATABASE
            assert values["POSTGRES_PASSWORD"] == placeholder("librechat:ragDbPassword")
            # The primary's writer; a secondary's reader endpoint, which forwards writes.
            endpoint = "cluster" if region == primary else "cluster-ro"
            assert values["DB_HOST"] == f"{clusters[region]}.{endpoint}.mock"
        if name == "keycloak-db":
            assert values["password"] == placeholder("librechat:keycloakDbPassword")
    for cluster in plan.of_type("aws:rds/cluster:Cluster"):
        secondary = region_of(plan, cluster) != primary
        assert bool(cluster.inputs.get("enableGlobalWriteForwarding")) == secondary
    for release in plan.of_type("kubernetes:helm.sh/v3:Release"):
        if release.inputs["name"] == "keycloak":
            database = unwrap(release.inputs["values"])["database"]
            assert database["username"] == KEYCLOAK_ROLE != AURORA_MASTER_USER
            assert database["hostname"] == f"{clusters[primary]}.cluster.mock"
    for cr in (r for r in plan.resources if r.type.endswith(":LibreChat")):
        body = {"metadata": {"name": "librechat", "namespace": "librechat", "uid": "u"}}
        body["spec"] = unwrap(cr.inputs["spec"])
        (rag_api,) = [s for s in inventory_services(body) if s["metadata"]["name"].endswith(RAG)]
        assert rag_api["spec"]["envFromSecret"] == RAG_SECRET

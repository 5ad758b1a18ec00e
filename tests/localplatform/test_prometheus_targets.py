"""``register_targets``/``unregister_targets`` write and remove Prometheus file_sd target lists.

That the platform's real Prometheus scrapes what they register is shown by
``tests/localplatform/test_workloads.py``, and with a bearer token by
``tests/localplatform/test_alerting.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from localplatform.layout import Layout
from localplatform.prometheus import config, register_targets, unregister_targets


def test_register_writes_a_file_sd_list_under_the_state_dir(tmp_path: Path) -> None:
    written = register_targets(tmp_path, "sim", ["127.0.0.1:3081", "127.0.0.1:3082"], {"env": "t"})
    assert written == tmp_path / "cluster" / "prometheus" / "targets" / "sim.json"
    assert json.loads(written.read_text()) == [
        {"targets": ["127.0.0.1:3081", "127.0.0.1:3082"], "labels": {"env": "t", "job": "sim"}}
    ]
    assert [p.name for p in written.parent.iterdir()] == ["sim.json"]  # no partial file left


def test_register_replaces_and_unregister_removes(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "cluster")
    register_targets(layout, "sim", ["127.0.0.1:1"])
    written = register_targets(layout, "sim", ["127.0.0.1:2"])
    assert json.loads(written.read_text())[0]["targets"] == ["127.0.0.1:2"]
    assert unregister_targets(layout, "sim")
    assert not written.exists()
    assert not unregister_targets(tmp_path, "sim")


@pytest.mark.parametrize(
    ("job", "targets", "message"),
    [
        ("../evil", ["127.0.0.1:1"], "job"),
        ("sim", [], "non-empty"),
        ("sim", ["http://127.0.0.1:1"], "host:port"),
        ("sim", ["127.0.0.1"], "host:port"),
    ],
)
def test_register_rejects_bad_input(
    tmp_path: Path, job: str, targets: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        register_targets(tmp_path, job, targets)


def _scrape_jobs(layout: Layout) -> dict[str, dict[str, Any]]:
    jobs = cast(list[dict[str, Any]], config(layout)["scrape_configs"])
    return {job["job_name"]: job for job in jobs}


def test_a_bearer_job_gets_its_own_scrape_job_with_the_token_beside_it(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "cluster")
    written = register_targets(layout, "gw", ["127.0.0.1:4000"], bearer_token="sk-secret")
    assert written == layout.prometheus_targets / "bearer" / "gw.json"
    token = written.with_suffix(".token")
    assert token.read_text() == "sk-secret"
    assert token.stat().st_mode & 0o777 == 0o600
    job = _scrape_jobs(layout)["local-services-bearer-gw"]
    assert job["authorization"] == {"credentials_file": str(token)}
    assert job["file_sd_configs"][0]["files"] == [str(written)]
    # prometheus.yml, which holds that job, was rewritten (Prometheus reads it on reload)
    on_disk = yaml.safe_load((layout.prometheus_dir / "prometheus.yml").read_text())
    assert "local-services-bearer-gw" in {job["job_name"] for job in on_disk["scrape_configs"]}
    # The same job without a token moves back to the plain file_sd list, and out of the config.
    plain = register_targets(layout, "gw", ["127.0.0.1:4000"])
    assert plain == layout.prometheus_targets / "gw.json"
    assert not written.exists()
    assert not token.exists()
    assert "local-services-bearer-gw" not in _scrape_jobs(layout)
    register_targets(layout, "gw", ["127.0.0.1:4000"], bearer_token="sk-secret")
    assert unregister_targets(layout, "gw")
    assert list((layout.prometheus_targets / "bearer").iterdir()) == []
    assert not (layout.prometheus_targets / "gw.json").exists()

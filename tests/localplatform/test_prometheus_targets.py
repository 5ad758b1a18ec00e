"""``register_targets``/``unregister_targets`` write and remove Prometheus file_sd target lists.

That the platform's real Prometheus scrapes what they register is shown by
``tests/chaos/test_slo.py`` (it registers a simulator's replicas and reads their metrics).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localplatform.layout import Layout
from localplatform.prometheus import register_targets, unregister_targets


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

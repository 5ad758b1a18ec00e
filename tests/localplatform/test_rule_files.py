"""``install_rules``/``uninstall_rules`` put rule files where the platform's Prometheus loads them,
checked by the real ``promtool`` first.

These use a layout whose Prometheus is not running (the file waits for its next start, nothing is
reloaded); ``tests/localplatform/test_alerting.py`` shows the running Prometheus loading them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from localplatform.errors import RulesError
from localplatform.layout import Layout
from localplatform.prometheus import install_rules, uninstall_rules

GOOD = """groups:
- name: pytest
  rules:
  - record: pytest:up:sum
    expr: sum(up)
"""


def test_install_writes_the_rule_file_under_the_state_dir(tmp_path: Path) -> None:
    written = install_rules(tmp_path, "pytest", GOOD)
    assert written == tmp_path / "cluster" / "prometheus" / "rules" / "pytest.yml"
    assert written.read_text() == GOOD
    assert [p.name for p in written.parent.iterdir()] == ["pytest.yml"]  # no partial file left


def test_install_replaces_and_uninstall_removes(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "cluster")
    install_rules(layout, "pytest", GOOD)
    other = GOOD.replace("sum(up)", "count(up)")
    written = install_rules(layout, "pytest", other)
    assert written.read_text() == other
    assert uninstall_rules(layout, "pytest")
    assert not written.exists()
    assert not uninstall_rules(tmp_path, "pytest")


def test_promtool_refuses_broken_rules_and_the_earlier_file_stays(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "cluster")
    written = install_rules(layout, "pytest", GOOD)
    with pytest.raises(RulesError, match="promtool refused the rules 'pytest'") as caught:
        install_rules(layout, "pytest", GOOD.replace("sum(up)", "sum(up"))
    assert caught.value.log_tail is not None
    assert "parse error" in caught.value.log_tail
    assert written.read_text() == GOOD
    assert [p.name for p in written.parent.iterdir()] == ["pytest.yml"]


def test_a_new_broken_file_never_reaches_the_rules_directory(tmp_path: Path) -> None:
    with pytest.raises(RulesError):
        install_rules(tmp_path, "broken", "groups: [{name: g, rules: [{record: 'not a name'}]}]")
    assert list((tmp_path / "cluster" / "prometheus" / "rules").iterdir()) == []


@pytest.mark.parametrize("name", ["../evil", "", "a b"])
def test_install_refuses_a_name_that_is_not_a_file_name(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="rule file name"):
        install_rules(tmp_path, name, GOOD)

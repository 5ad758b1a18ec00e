"""``librechat-ops slo rules|dashboards``: the files written, promtool's verdict on them, and one
clear error (exit code 2, no traceback) for a bad environment, directory, scale or interval."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

import slos.files
from librechat_ops.cli import app
from slos.rules import generate as generate_rules

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool is not installed (Debian: apt-get install prometheus)",
)


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, ["slo", *args], env={"COLUMNS": "200", **(env or {})})


def _stderr(result: Result) -> str:
    """Standard error with rich's line folding undone."""
    return result.stderr.replace("\n", " ")


@needs_promtool
def test_rules_are_written_checked_and_tested(tmp_path: Path) -> None:
    out = tmp_path / "rules"
    result = _run("rules", "--env", "staging", "--out", str(out))
    assert result.exit_code == 0, result.output
    rules = yaml.safe_load((out / "librechat-slo-staging.rules.yml").read_text())
    tests = yaml.safe_load((out / "librechat-slo-staging.rules.test.yml").read_text())
    assert tests["rule_files"] == ["librechat-slo-staging.rules.yml"]
    every = [r for g in rules["groups"] for r in g["rules"]]
    records, alerts = sum("record" in r for r in every), sum("alert" in r for r in every)
    assert alerts == 36  # 12 objectives, 3 alerts each
    assert f"{records} recording rules, {alerts} alerts" in result.stdout
    assert f"{len(tests['tests'])} promtool tests" in result.stdout
    assert "ok promtool check rules: valid" in result.stdout
    assert f"ok promtool test rules: {len(tests['tests'])} passed" in result.stdout


def test_scale_and_interval_reach_the_rules(tmp_path: Path) -> None:
    result = _run(
        "rules",
        "--env",
        "laptop",
        "--out",
        str(tmp_path),
        "--scale",
        "1/60",
        "--interval",
        "5s",
        "--no-check",
    )
    assert result.exit_code == 0, result.output
    rules = yaml.safe_load((tmp_path / "librechat-slo-laptop.rules.yml").read_text())
    assert {g["interval"] for g in rules["groups"]} == {"5s"}
    records = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    assert "slo:burn_rate:ratio_rate5s" in records
    assert "slo:burn_rate:ratio_rate72m" in records
    assert "windows x1/60, evaluated every 5s" in result.stdout
    assert "promtool" not in result.stdout.replace("promtool tests", "")


def test_without_promtool_the_rules_are_written_and_it_says_so(tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    result = _run("rules", "--env", "laptop", "--out", str(tmp_path), env={"PATH": str(bare)})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "librechat-slo-laptop.rules.yml").is_file()
    assert "not checked: promtool is not on PATH" in result.stdout.replace("\n", " ")


@needs_promtool
def test_rules_that_fail_their_tests_exit_1_with_promtools_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def without_short_window(env: str, slos: Any, **options: Any) -> dict[str, Any]:
        rules = generate_rules(env, slos, **options)
        for group in rules["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    rule["expr"] = rule["expr"].split(" and ")[0]
        return rules

    monkeypatch.setattr(slos.files, "generate_rules", without_short_window)
    result = _run("rules", "--env", "laptop", "--out", str(tmp_path))
    assert result.exit_code == 1, result.output
    assert "ok promtool check rules" in result.stdout
    assert "FAILED promtool test rules" in result.stdout
    assert "the burst is over: the short window resets it" in result.stdout


@pytest.mark.parametrize(
    ("args", "message", "fix"),
    [
        (
            ["--env", "moon"],
            "no SLOs for environment 'moon'",
            "choose one of: laptop, production, staging",
        ),
        (["--env", "laptop", "--scale", "fast"], "--scale 'fast' is not a number", "1/60"),
        (["--env", "laptop", "--scale", "-1"], "--scale must be positive", "1/60"),
        (
            ["--env", "laptop", "--scale", "1/100000"],
            "the shortest alert window is 3 ms",
            "1/300 or more",
        ),
        (["--env", "laptop", "--interval", "soon"], "'soon' is not a duration", "--interval 30s"),
        (
            ["--env", "laptop", "--slo-file", "/nonexistent/slos.yaml"],
            "cannot read the SLO file /nonexistent/slos.yaml",
            "--slo-file",
        ),
    ],
)
def test_bad_input_is_one_clear_error(
    tmp_path: Path, args: list[str], message: str, fix: str
) -> None:
    result = _run("rules", *args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert message in _stderr(result)
    assert "fix: " in _stderr(result)
    assert fix in _stderr(result)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["rules", "dashboards"])
def test_an_unwritable_out_is_one_clear_error(tmp_path: Path, command: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    # A directory cannot be made under a file, even by root.
    result = _run(command, "--env", "laptop", "--out", str(blocker / "out"))
    assert result.exit_code == 2, result.output
    assert f"cannot write the {command} into {blocker / 'out'}" in _stderr(result)
    assert "fix: choose a directory you can write to with --out" in _stderr(result)
    assert "Traceback" not in result.output


def test_dashboards_are_written_as_json(tmp_path: Path) -> None:
    result = _run("dashboards", "--env", "production", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert "librechat-slo-production.json" in written
    for name in written:
        board = json.loads((tmp_path / name).read_text())
        assert board["title"]
        assert board["panels"]
        assert f"wrote {tmp_path / name}: {board['title']}" in result.stdout.replace("\n", "")
    slo_board = json.loads((tmp_path / "librechat-slo-production.json").read_text())
    assert "production" in slo_board["title"]


def test_help_explains_the_commands() -> None:
    group = _run("--help")
    assert group.exit_code == 0
    assert "rules" in group.stdout
    assert "dashboards" in group.stdout
    rules = _run("rules", "--help")
    text = " ".join(rules.stdout.split())
    assert "librechat-slo-ENV.rules.test.yml" in text
    assert "page at 14.4x over 1 h and 5 min" in text
    assert "--no-check" in text
    assert "1/60" in text
    dashboards = " ".join(_run("dashboards", "--help").stdout.split())
    assert "Grafana" in dashboards

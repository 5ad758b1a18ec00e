"""The generated rules on disk: an environment's rule file and its promtool tests written side by
side, and promtool's verdict on them (``promtool check rules``, ``promtool test rules``).

promtool ships with Prometheus (Debian's ``prometheus`` package installs ``/usr/bin/promtool``);
where it is missing, :func:`find_promtool` says so and nothing is run.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .definition import Environment, duration_s
from .errors import SloError
from .promtool import generate as generate_tests
from .promtool import rule_tests_file_name, rules_file_name
from .rules import dump
from .rules import generate as generate_rules

PROMTOOL_TIMEOUT_S = 300.0
"""Longest a promtool run may take (the generated tests take a few seconds)."""


@dataclass(frozen=True)
class Written:
    """What :func:`write` wrote."""

    rules: Path
    """The rule file."""

    tests: Path
    """Its promtool test file, beside it."""

    records: int
    """Recording rules in the rule file."""

    alerts: int
    """Alerting rules in it."""

    test_groups: int
    """Test groups (scenarios) in the test file."""


def write(
    env: str, slos: Environment, out: Path, *, scale: float = 1.0, interval: str = "30s"
) -> Written:
    """Write ``env``'s rules and their promtool tests into directory ``out`` (made if missing)."""
    try:
        duration_s(interval)
    except ValueError as exc:
        raise SloError(
            f"the evaluation interval {exc}", hint="pass --interval 30s, 1m or the like"
        ) from None
    rules = generate_rules(env, slos, scale=scale, interval=interval)
    tests = generate_tests(env, slos, scale=scale, interval=interval)
    rules_path, tests_path = out / rules_file_name(env), out / rule_tests_file_name(env)
    try:
        out.mkdir(parents=True, exist_ok=True)
        rules_path.write_text(dump(rules))
        tests_path.write_text(dump(tests))
    except OSError as exc:
        raise SloError(
            f"cannot write the rules into {out}: {exc.strerror or exc}",
            hint="choose a directory you can write to with --out",
        ) from None
    every = [rule for group in rules["groups"] for rule in group["rules"]]
    return Written(
        rules_path,
        tests_path,
        records=sum("record" in rule for rule in every),
        alerts=sum("alert" in rule for rule in every),
        test_groups=len(tests["tests"]),
    )


@dataclass(frozen=True)
class PromtoolResult:
    """One promtool run."""

    command: tuple[str, ...]
    """What was run."""

    returncode: int
    """Its exit code: 0 when the rules are valid, or the tests pass."""

    output: str
    """Its standard output and error, together."""

    @property
    def ok(self) -> bool:
        """promtool found nothing wrong."""
        return self.returncode == 0


def find_promtool() -> str | None:
    """promtool's path, or None when it is not on PATH."""
    return shutil.which("promtool")


def run_promtool(*args: str, promtool: str | None = None) -> PromtoolResult:
    """``promtool ARGS`` (``promtool`` found on PATH unless given)."""
    program = promtool or find_promtool()
    if program is None:
        raise SloError(
            "promtool is not on PATH",
            hint="install Prometheus (Debian: apt-get install prometheus), or pass --no-check",
        )
    command = (program, *args)
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=PROMTOOL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SloError(f"cannot run {' '.join(command)}: {exc}") from None
    return PromtoolResult(command, done.returncode, (done.stdout + done.stderr).strip())


def check_rules(path: Path, *, promtool: str | None = None) -> PromtoolResult:
    """``promtool check rules PATH``: is the rule file valid?"""
    return run_promtool("check", "rules", str(path), promtool=promtool)


def run_rule_tests(path: Path, *, promtool: str | None = None) -> PromtoolResult:
    """``promtool test rules PATH``: do the rules pass the tests?"""
    return run_promtool("test", "rules", str(path), promtool=promtool)

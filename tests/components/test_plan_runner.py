"""The mock runner: provider calls are refused, programs run from any directory by path."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.errors import PlanError
from components.plan import run_program


def _program(tmp_path: Path, body: str) -> Path:
    program = tmp_path / "program"
    program.mkdir()
    (program / "__main__.py").write_text(body)
    return program


def test_a_provider_call_is_refused(tmp_path: Path) -> None:
    program = _program(
        tmp_path,
        "import pulumi_aws as aws\naws.get_caller_identity()\n",
    )
    with pytest.raises(PlanError, match="allows no provider calls"):
        run_program(program, "test", {}, [])


def test_resources_and_their_parents_are_recorded(tmp_path: Path) -> None:
    program = _program(
        tmp_path,
        "import pulumi\n"
        "import pulumi_kubernetes as k8s\n"
        "class Group(pulumi.ComponentResource):\n"
        "    def __init__(self, name):\n"
        "        super().__init__('test:index:Group', name, None, None)\n"
        "g = Group('g')\n"
        "opts = pulumi.ResourceOptions(parent=g)\n"
        "k8s.core.v1.Namespace('ns', metadata={'name': 'x'}, opts=opts)\n",
    )
    plan = run_program(program, "test", {}, [])
    (group,) = plan.of_type("test:index:Group")
    (ns,) = plan.of_type("kubernetes:core/v1:Namespace")
    assert ns.parent == group.urn
    assert ns.custom
    assert not group.custom
    assert ns.inputs["metadata"] == {"name": "x"}

"""``librechat-ops plan``: the offline plan and cost estimate of an environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.tree import Tree

from components.costs import CostEstimate, estimate
from components.errors import ComponentsError, ConfigError
from components.plan import Plan, compare_counts, plan_env, steps, tree
from components.stackfile import default_program_dir

from .console import console, err_console, fail

_DEFAULT_PROGRAM = default_program_dir()
"""``stacks/`` of this checkout."""


def _evaluate(env: str, program: Path) -> tuple[Plan, CostEstimate]:
    with err_console.status(f"Evaluating the {env} program under Pulumi mocks..."):
        try:
            plan = plan_env(env, program)
            return plan, estimate(plan)
        except ConfigError as exc:
            fail(
                f"{env}: {exc}",
                f"correct {exc.key} in {program / f'Pulumi.{env}.yaml'} "
                "(or with `pulumi config set` on that stack)",
            )
        except ComponentsError as exc:
            fail(f"{env}: {exc}")


def _summary(plan: Plan, cost: CostEstimate) -> dict[str, Any]:
    return {
        "env": plan.env,
        "resources": len(plan.custom),
        "components": len(plan.resources) - len(plan.custom),
        "notes": list(plan.notes),
        "tree": {
            region: {comp: dict(sorted(counts.items())) for comp, counts in comps.items()}
            for region, comps in tree(plan).items()
        },
        "monthly_cost_usd": {
            "total": round(cost.total, 2),
            "by_region": {k: round(v, 2) for k, v in cost.by_region().items()},
            "lines": [vars(line) for line in cost.lines],
            "not_estimated_types": cost.unpriced_types,
            "prices_source": cost.source,
            "prices_date": cost.date,
        },
    }


def _print(plan: Plan, cost: CostEstimate) -> None:
    root = Tree(
        f"[bold]{plan.env}[/]: {len(plan.custom)} resources in "
        f"{len(plan.resources) - len(plan.custom)} components (offline plan, Pulumi mocks)"
    )
    for region, comps in tree(plan).items():
        n = sum(sum(c.values()) for c in comps.values())
        branch = root.add(f"[bold cyan]{region}[/] ({n})")
        for comp, counts in comps.items():
            node = branch.add(f"{comp} ({sum(counts.values())})")
            for typ, count in sorted(counts.items()):
                node.add(f"{count:>3} {typ}", highlight=False)
    console.print(root)
    for note in plan.notes:
        console.print(f"[yellow]{plan.env}[/] {note}", highlight=False)
    table = Table(title=f"estimated monthly cost of {plan.env} (USD, fixed charges)")
    table.add_column("region")
    table.add_column("per month", justify="right")
    for region, usd in cost.by_region().items():
        table.add_row(region, f"{usd:,.0f}")
    table.add_row("[bold]total[/]", f"[bold]{cost.total:,.0f}[/]")
    console.print(table)
    console.print(
        f"Prices: {cost.source}; as of {cost.date}. Not estimated (usage-based or free): "
        f"{len(cost.unpriced_types)} resource types.",
        highlight=False,
    )


def _print_compare(a: Plan, ca: CostEstimate, b: Plan, cb: CostEstimate) -> None:
    table = Table(title=f"{a.env} -> {b.env}: resource types whose count differs")
    table.add_column("type")
    table.add_column(a.env, justify="right")
    table.add_column(b.env, justify="right")
    table.add_column("change", justify="right")
    for typ, (x, y) in compare_counts(a, b).items():
        table.add_row(typ, str(x), str(y), f"{y - x:+d}")
    table.add_row(
        "[bold]all resources[/]",
        str(len(a.custom)),
        str(len(b.custom)),
        f"{len(b.custom) - len(a.custom):+d}",
    )
    table.add_row(
        "[bold]monthly USD[/]",
        f"{ca.total:,.0f}",
        f"{cb.total:,.0f}",
        f"{cb.total - ca.total:+,.0f}",
    )
    console.print(table)


def plan(
    env: Annotated[
        str, typer.Option("--env", help="Stack to plan: laptop, staging or production.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    inputs: Annotated[
        bool,
        typer.Option(
            "--inputs",
            help="With --json: add every resource's type, name, parent, protect and inputs "
            "(secrets masked) as `steps`, in the shape of `pulumi preview --json`.",
        ),
    ] = False,
    compare: Annotated[
        str | None,
        typer.Option("--compare", metavar="ENV2", help="Also plan ENV2 and show the difference."),
    ] = None,
    program: Annotated[
        Path, typer.Option("--program", help="Directory of the Pulumi program and its stack files.")
    ] = _DEFAULT_PROGRAM,
) -> None:
    """Plan an environment offline and estimate its monthly cost.

    Runs the real Pulumi program of ``stacks/`` with the committed ``Pulumi.<ENV>.yaml`` under
    Pulumi's mocks (no cloud account, no Pulumi CLI): prints the resources it would create by
    region and component, and a monthly estimate of fixed charges from the committed price table.
    Secret (``secure:``) values are replaced by placeholders that stay marked secret.
    """
    if inputs and not as_json:
        fail("--inputs adds to the JSON plan", "run `librechat-ops plan --env ENV --json --inputs`")
    first, first_cost = _evaluate(env, program)
    other = _evaluate(compare, program) if compare else None
    if as_json:
        out = _summary(first, first_cost)
        if inputs:
            out["steps"] = steps(first)
        if other is not None:
            out["compare"] = {
                "env": other[0].env,
                "summary": _summary(*other),
                "type_counts": {
                    t: {"from": x, "to": y} for t, (x, y) in compare_counts(first, other[0]).items()
                },
                "monthly_cost_change_usd": round(other[1].total - first_cost.total, 2),
            }
        console.print_json(json.dumps(out))
        return
    _print(first, first_cost)
    if other is not None:
        _print(*other)
        _print_compare(first, first_cost, *other)


def register(app: typer.Typer) -> None:
    """Add ``plan`` to the application."""
    app.command()(plan)

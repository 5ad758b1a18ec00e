"""Time to evaluate the production Pulumi program under mocks, and its resource count.

Goal: <= 20 s. Run from the repository root as a module (``benchmarks/`` holds a ``platform.py``
that would shadow the standard library's if this file were run by path):
``.venv/bin/python -m benchmarks.pulumi_plan [--env production] [--runs 3]``.
The first run includes importing pulumi-aws/pulumi-kubernetes modules (cold); later runs are warm.
"""

from __future__ import annotations

import argparse
import statistics
import time

from components.plan import plan_env
from components.stackfile import default_program_dir

GOAL_SECONDS = 20.0
"""DESIGN/issue goal for evaluating the production program."""


def main() -> None:
    """Plan the environment ``--runs`` times and print the timings and counts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="production")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    timings: list[float] = []
    plan = None
    for _ in range(args.runs):
        start = time.perf_counter()
        plan = plan_env(args.env, default_program_dir())
        timings.append(time.perf_counter() - start)
    assert plan is not None
    warm = timings[1:] or timings
    print(f"env: {args.env}")
    components = len(plan.resources) - len(plan.custom)
    print(f"resources: {len(plan.custom)} provider-managed + {components} components")
    print(f"cold run (includes provider SDK imports): {timings[0]:.2f} s")
    print(
        f"warm runs: median {statistics.median(warm):.2f} s, max {max(warm):.2f} s over {len(warm)}"
    )
    verdict = "within" if timings[0] <= GOAL_SECONDS else "OVER"
    print(f"goal <= {GOAL_SECONDS:.0f} s: {verdict} (cold)")


if __name__ == "__main__":
    main()

"""The capacity search: the step ramp, each step judged, the knee, the CPU beside it, the report.

The search logic runs on synthetic step results and timelines; CPU is read from this machine's
``/proc``; two short real runs against the simulator go through ``loadtest --find-capacity``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest

from loadtests.capacity import (
    GENERATOR,
    MAX_STEPS,
    CpuUse,
    StepPlan,
    StepResult,
    complete_steps,
    find_knee,
    in_flight,
    measure_step,
)
from loadtests.capacity_report import write_capacity_report
from loadtests.common import names
from loadtests.cpu import CpuSeries, Sampler, descendants, process_cpu_s, process_name, use
from loadtests.results import RunResults, TimelineCell
from slos.definition import Environment, JourneySlo, LatencyObjective
from tests.commands import run_cli

PLAN = StepPlan(step_users=10, step_duration_s=30, max_steps=5, warmup_s=5)


def _step(
    step: int,
    rps: float,
    broken: tuple[str, ...] = (),
    generator: float = 0.3,
    p99: float = 20.0,
) -> StepResult:
    return StepResult(
        step=step,
        users=10 * step,
        start_s=30 * (step - 1) + 5,
        end_s=30 * step,
        requests=int(rps * 25),
        failures=0,
        rps=rps,
        concurrent_chats=step * 1.5,
        p99_ms={"message_delivery": p99, "search": None},
        broken=broken,
        reasons=tuple(f"{j}: P99 80 ms above the 50 ms target" for j in broken),
        cpu=CpuUse(generator, generator, 1.2, 0.8),
    )


# --------------------------------------------------------------------------- the step ramp


def test_the_ramp_adds_users_every_step_and_stops_after_the_last() -> None:
    assert PLAN.tick(0) == (10, 2.0)  # 10 users arrive over the 5 s warm-up
    assert PLAN.tick(29.9) == (10, 2.0)
    assert PLAN.tick(30) == (20, 2.0)
    assert PLAN.tick(149.9) == (50, 2.0)
    assert PLAN.tick(150) is None
    assert PLAN.total_s == 150


def test_each_step_is_judged_after_its_warm_up_in_whole_seconds() -> None:
    assert PLAN.window(1) == (5, 30)
    assert PLAN.window(2) == (35, 60)
    fractional = StepPlan(step_users=1, step_duration_s=2.5, max_steps=3, warmup_s=1)
    assert [fractional.window(k) for k in (1, 2, 3)] == [(1, 2), (4, 5), (6, 7)]


def test_the_time_limit_cuts_the_steps() -> None:
    plan = StepPlan(step_users=5, step_duration_s=30, max_steps=100, time_limit_s=95)
    assert plan.steps == 3
    assert plan.total_s == 90
    assert plan.to_dict()["steps"] == 3


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"warmup_s": 30}, "leaves nothing of a 30s step to judge"),
        ({"time_limit_s": 10}, "a 10s time limit holds no 30s step"),
        ({"step_users": 0}, "step_users must be at least 1"),
        ({"max_steps": 0}, "max_steps must be at least 1"),
    ],
)
def test_a_plan_that_cannot_judge_anything_is_refused(
    changes: dict[str, float], message: str
) -> None:
    settings: dict[str, float] = {"step_users": 10, "step_duration_s": 30, "max_steps": 5}
    with pytest.raises(ValueError, match=message):
        StepPlan(**(settings | changes))


# --------------------------------------------------------------------------- one step judged


def _timeline(seconds: range, slow_from: int) -> RunResults:
    """Each second: 10 message reads (5 ms, 90 ms from ``slow_from`` on) and one 400 ms chat."""
    timeline = []
    for s in seconds:
        reads = TimelineCell()
        for _ in range(10):
            reads.add(90 if s >= slow_from else 5, failed=False)
        chat = TimelineCell()
        chat.add(400, failed=False)
        ttft = TimelineCell()
        ttft.add(150, failed=False)
        timeline += [
            (s, names.MESSAGES, reads),
            (s, names.CHAT_COMPLETE, chat),
            (s, names.CHAT_TTFT, ttft),
        ]
    return RunResults(
        host="http://x", entries={}, samples=[], wall_s=float(seconds.stop), cpu_s=50.0,
        cpu_warning=False, timeline=timeline,
    )  # fmt: skip


PROFILE = Environment(
    availability=0.999,
    min_requests=1,
    journeys={
        "message_delivery": JourneySlo(
            latency=(LatencyObjective(percentile=0.99, threshold_ms=50),)
        )
    },
)


def test_a_step_counts_its_judged_seconds_only() -> None:
    results = _timeline(range(60), slow_from=40)
    first = measure_step(results, PLAN, 1, profile_name="laptop", profile=PROFILE)
    assert (first.start_s, first.end_s) == (5, 30)
    assert first.requests == 250  # message reads only: the chat entries time a stream
    assert first.rps == 10.0
    # One 400 ms chat ends every second: 0.4 chats in flight on average (Little's law).
    assert first.concurrent_chats == pytest.approx(0.4)
    assert first.p99_ms["message_delivery"] == 5
    assert first.journey_requests["message_delivery"] == 250
    assert "message_delivery" not in first.thin  # 250 requests
    assert first.thin  # the chat's 25 streams: their P99 is their slowest
    assert first.held
    second = measure_step(results, PLAN, 2, profile_name="laptop", profile=PROFILE)
    assert second.broken == ("message_delivery",)
    assert second.reasons == ("message_delivery: P99 90 ms above the 50 ms target",)
    assert not second.held


def test_only_steps_the_run_covered_to_their_end_are_judged() -> None:
    assert complete_steps(_timeline(range(62), slow_from=99), PLAN) == [1, 2]
    assert complete_steps(_timeline(range(29), slow_from=99), PLAN) == []


def test_chats_in_flight_follow_littles_law() -> None:
    assert in_flight({1000: 10}, 10) == 1.0  # ten 1 s chats in 10 s: one at a time
    assert in_flight({250: 8, 500: 4}, 2) == 2.0
    assert in_flight({}, 10) == 0.0


def test_a_step_survives_its_json_form() -> None:
    step = _step(2, 40.0, broken=("search",))
    assert StepResult.from_dict(json.loads(json.dumps(step.to_dict()))) == step


# --------------------------------------------------------------------------- the knee


def test_the_knee_is_the_last_step_before_an_slo_breaks() -> None:
    capacity = find_knee(
        [_step(1, 20.0), _step(2, 41.5), _step(3, 55.0, broken=("message_delivery",))]
    )
    assert (capacity.rps, capacity.concurrent_chats, capacity.users, capacity.step) == (
        41.5, 3.0, 20, 2,
    )  # fmt: skip
    assert capacity.limited_by == "message_delivery"
    assert capacity.reasons == ("message_delivery: P99 80 ms above the 50 ms target",)
    assert "step 3 (30 users) broke message_delivery" in capacity.message


def test_a_break_resting_on_a_few_requests_says_so() -> None:
    thin = replace(
        _step(2, 30.0, broken=("authentication",)),
        p99_ms={"authentication": 28.0, "message_delivery": 20.0},
        journey_requests={"authentication": 28, "message_delivery": 400},
    )
    assert thin.thin == ("authentication",)  # 28 requests: their P99 is the slowest one
    assert thin.to_dict()["thin"] == ["authentication"]
    capacity = find_knee([_step(1, 20.0), thin])
    assert capacity.limited_by == "authentication"
    assert "fewer than 100 requests is their slowest: authentication 28" in capacity.message
    assert "--step-duration" in capacity.message


def test_two_slos_breaking_together_are_both_named() -> None:
    capacity = find_knee([_step(1, 20.0), _step(2, 30.0, broken=("authentication", "search"))])
    assert capacity.limited_by == "authentication+search"


def test_a_first_step_already_failing_gives_no_capacity_and_says_so() -> None:
    capacity = find_knee([_step(1, 20.0, broken=("authentication",)), _step(2, 30.0)])
    assert capacity.rps is None
    assert capacity.concurrent_chats is None
    assert capacity.limited_by == "authentication"
    assert capacity.message == (
        "the first step already fails: step 1 (10 users) broke authentication; "
        "try fewer --step-users"
    )


def test_a_saturated_generator_is_the_limit_not_the_service() -> None:
    capacity = find_knee([_step(1, 20.0), _step(2, 38.0, generator=0.97)])
    assert capacity.rps == 20.0
    assert capacity.limited_by == GENERATOR
    assert "the generator's limit, not the service's" in capacity.message
    assert "97% of a core" in capacity.message


def test_a_saturated_generator_counts_even_when_an_slo_broke_too() -> None:
    capacity = find_knee([_step(1, 20.0), _step(2, 38.0, broken=("search",), generator=0.95)])
    assert capacity.limited_by == GENERATOR


def test_every_step_holding_is_a_lower_bound() -> None:
    capacity = find_knee([_step(1, 20.0), _step(2, 40.0)])
    assert capacity.rps == 40.0
    assert capacity.limited_by == MAX_STEPS
    assert capacity.message.startswith("at least 40.0 req/s")
    assert find_knee([]).rps is None


# --------------------------------------------------------------------------- CPU


def test_cpu_rates_interpolate_between_samples() -> None:
    series = CpuSeries()
    series.add(0.0, {"generator:1": 0.0, "service:2": 0.0, "machine:busy": 0, "machine:total": 0})
    series.add(
        10.0, {"generator:1": 5.0, "service:2": 12.0, "machine:busy": 15, "machine:total": 20}
    )
    assert series.rate("generator:1", 2.0, 6.0) == pytest.approx(0.5)
    assert series.rate("generator:1", 5.0, 11.0) is None  # after the last sample
    cpu = use(series, 0.0, 10.0, {"service:2": "redis-server"})
    assert cpu == CpuUse(
        generator_share=0.5,
        generator_cores=0.5,
        service_cores=1.2,
        machine_share=0.75,
        service_processes={"redis-server": 1.2},
    )


def test_cpu_is_read_from_proc_for_a_process_and_its_children(tmp_path: Path) -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert child.pid in descendants([os.getpid()])
        assert process_name(child.pid) == "sleep"
        with Sampler(interval_s=0.05) as sampler:
            sampler.watch("generator", [os.getpid()])
            begins = time.time()
            deadline = time.process_time() + 0.3
            while time.process_time() < deadline:  # busy: this process uses CPU
                pass
            ends = time.time()
            time.sleep(0.1)
        cpu = sampler.use(begins, ends)
    finally:
        child.kill()
        child.wait()
    assert (process_cpu_s(os.getpid()) or 0) > 0
    assert process_cpu_s(child.pid) is None  # gone
    assert cpu.generator_share is not None
    assert cpu.generator_share > 0.3
    assert cpu.service_cores is None  # no service watched
    assert cpu.machine_share is not None
    assert 0 < cpu.machine_share <= 1


# --------------------------------------------------------------------------- the report


def test_the_report_has_the_plot_and_the_table(tmp_path: Path) -> None:
    steps = [_step(1, 20.0), _step(2, 41.5), _step(3, 55.0, broken=("message_delivery",))]
    capacity = find_knee(steps)
    document = {
        "profile": "laptop",
        "host": "http://x",
        "capacity": capacity.to_dict(),
        "targets": {"message_delivery": 50.0},
        "plan": PLAN.to_dict(),
        "machine": {"cores": 2, "load_average_before": [0.5, 0.4, 0.3]},
    }
    plot, page = write_capacity_report(document, steps, tmp_path)
    assert plot.read_bytes().startswith(b"\x89PNG")
    text = page.read_text()
    assert "<h1>Capacity: 41.5 req/s, 3 chats in flight</h1>" in text
    assert text.count("data:image/png;base64,") == 1
    assert text.count('<tr class="fail">') == 1
    assert "generator CPU %" in text


# --------------------------------------------------------------------------- real runs


def _profiles(tmp_path: Path, p99_ms: float) -> Path:
    """An SLO file judging message delivery only (every step has plenty of it)."""
    path = tmp_path / "slos.yaml"
    path.write_text(
        "environments:\n  tiny:\n    availability: 0.99\n    minRequests: 1\n"
        "    journeys:\n      message_delivery:\n"
        f"        latency: [{{percentile: 0.99, thresholdMs: {p99_ms}}}]\n"
    )
    return path


def _find_capacity(tmp_path: Path, p99_ms: float) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "loadtest", "--find-capacity", "--profile", "tiny",
        "--slo-file", str(_profiles(tmp_path, p99_ms)), "--report", str(tmp_path / "report"),
        # 3 users for 6 s a step: with 2 for 4 s a busy machine once judged a first step in which
        # neither user had reached the message journeys yet (0 requests of it).
        "--step-users", "3", "--step-duration", "6s", "--max-steps", "3", "--warmup", "1s",
        "--sim-ttft-ms", "20", "--sim-tokens-per-second", "1000",
        state=tmp_path / "state",
    )  # fmt: skip


@pytest.mark.e2e
@pytest.mark.slow
def test_a_real_ramp_reports_the_capacity_and_the_plot(tmp_path: Path) -> None:
    result = _find_capacity(tmp_path, p99_ms=5000)
    assert result.returncode == 0, result.stdout + result.stderr
    report = tmp_path / "report"
    document = json.loads((report / "capacity.json").read_text())
    capacity = document["capacity"]
    assert capacity["limited_by"] == MAX_STEPS  # no step of a few users breaks a 5 s P99
    assert capacity["rps"] > 0
    assert capacity["concurrent_chats"] > 0
    steps = document["steps"]
    assert [s["users"] for s in steps] == [3, 6, 9]
    assert capacity["rps"] == round(steps[-1]["rps"], 1)
    for step in steps:
        assert step["cpu"]["generator_cores"] > 0
        assert step["cpu"]["service_cores"] > 0  # the simulator this run started
        assert any(p.startswith("librechat_sim.app r") for p in step["cpu"]["service_processes"])
    assert (report / "capacity.png").read_bytes().startswith(b"\x89PNG")
    assert "data:image/png;base64," in (report / "capacity.html").read_text()
    for k in (1, 2, 3):
        assert f"step {k}: {3 * k} users" in result.stdout  # progress, as each step is judged
    assert "capacity: " in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.e2e
@pytest.mark.slow
def test_a_first_step_breaking_stops_the_ramp_with_no_capacity(tmp_path: Path) -> None:
    result = _find_capacity(tmp_path, p99_ms=0.001)  # no request is that fast
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no capacity within the SLOs: the first step already fails" in result.stdout
    # Why, under the step's progress line: its P99, or (on a busy machine whose users are
    # still logging in) too few requests in the step's judged seconds.
    assert re.search(r"message_delivery: (P99 \S+ ms above|\d+ requests, fewer)", result.stdout)
    report = tmp_path / "report"
    document = json.loads((report / "capacity.json").read_text())
    assert document["capacity"]["rps"] is None
    assert document["capacity"]["limited_by"] == "message_delivery"
    assert len(document["steps"]) == 1
    # The ramp stopped after judging step 1, long before its three steps' 18 s.
    assert json.loads((report / "results.json").read_text())["wall_s"] < 11


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--duration", "5s"), "--find-capacity runs --max-steps steps"),
        (("--step-duration", "3s", "--warmup", "5s"), "leaves nothing of a 3s step"),
        (("--step-duration", "soon"), "cannot read duration"),
    ],
)
def test_bad_capacity_options_are_one_clear_error(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_cli(
        "loadtest", "--find-capacity", "--profile", "laptop", "--target", "http://127.0.0.1:9",
        "--report", str(tmp_path), *args, state=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr

"""The SLO gate: percentiles, error budget, minimum requests, untargeted journeys, CPU warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.common import names
from loadtests.errors import LocustRunError
from loadtests.report import warmup_note
from loadtests.results import EntryStats, RunResults, TimelineCell, merge, percentile
from loadtests.slo import judge
from slos.definition import Environment, JourneySlo, LatencyObjective


def _results(
    entries: dict[str, EntryStats], cpu_s: float = 1.0, warned: bool = False
) -> RunResults:
    return RunResults(
        host="http://x", entries=entries, samples=[], wall_s=10.0, cpu_s=cpu_s, cpu_warning=warned
    )


def _target(p99_ms: float | None = None, p95_ms: float | None = None) -> JourneySlo:
    latency = [
        LatencyObjective(percentile=p, threshold_ms=ms)
        for p, ms in ((0.99, p99_ms), (0.95, p95_ms))
        if ms is not None
    ]
    return JourneySlo(latency=tuple(latency))


def _profile(**journeys: JourneySlo) -> Environment:
    return Environment(availability=0.99, min_requests=10, journeys=journeys)


def _fast(n: int = 100, failures: int = 0) -> EntryStats:
    return EntryStats(requests=n, failures=failures, response_times={5: n - 1, 20: 1})


def test_percentile_is_the_smallest_time_covering_the_fraction() -> None:
    hist = {1: 50, 2: 45, 10: 4, 100: 1}
    assert percentile(hist, 0.5) == 1
    assert percentile(hist, 0.95) == 2
    assert percentile(hist, 0.99) == 10
    assert percentile(hist, 1.0) == 100
    assert percentile({}, 0.99) is None
    assert merge([{1: 2}, {1: 1, 3: 1}]) == {1: 3, 3: 1}


def test_passes_when_every_target_holds() -> None:
    results = _results({names.SEARCH: _fast()})
    verdict = judge(results, "p", _profile(search=_target(p99_ms=25)))
    search = next(j for j in verdict.journeys if j.journey == "search")
    assert verdict.passed
    assert search.judged
    assert search.passed
    assert (search.p50_ms, search.p99_ms) == (5, 5)


def test_fails_on_latency_above_the_p99_target() -> None:
    slow = EntryStats(requests=100, failures=0, response_times={5: 90, 300: 10})
    verdict = judge(_results({names.SEARCH: slow}), "p", _profile(search=_target(p99_ms=100)))
    search = next(j for j in verdict.journeys if j.journey == "search")
    assert not verdict.passed
    assert search.reasons == ("P99 300 ms above the 100 ms target",)


def test_fails_when_errors_exceed_the_budget() -> None:
    results = _results({names.UPLOAD: _fast(100, failures=2)})
    verdict = judge(results, "p", _profile(file_operations=_target(p99_ms=200)))
    assert not verdict.passed
    assert (
        "error budget"
        in next(j for j in verdict.journeys if j.journey == "file_operations").reasons[0]
    )


def test_fails_with_too_few_requests_and_with_none() -> None:
    verdict = judge(_results({names.SEARCH: _fast(5)}), "p", _profile(search=_target(p99_ms=25)))
    assert not verdict.passed
    empty = judge(_results({}), "p", _profile(search=_target(p99_ms=25)))
    assert not empty.passed
    assert "0 requests" in next(j for j in empty.journeys if j.journey == "search").reasons[0]


def test_journeys_without_targets_are_reported_but_not_judged() -> None:
    slow = EntryStats(requests=100, failures=50, response_times={9000: 100})
    verdict = judge(_results({names.CHAT_COMPLETE: slow}), "p", _profile(search=_target()))
    complete = next(j for j in verdict.journeys if j.journey == "time_to_complete")
    assert verdict.passed
    assert not complete.judged
    assert complete.p99_ms == 9000


def test_a_journey_judged_on_errors_only_needs_no_minimum_and_ignores_latency() -> None:
    slow_but_fine = EntryStats(requests=3, failures=0, response_times={9000: 3})
    ok = judge(
        _results({names.LOGIN: slow_but_fine}),
        "p",
        _profile(login=_target()),
    )
    login = next(j for j in ok.journeys if j.journey == "login")
    assert (ok.passed, login.judged) == (True, True)
    failing = EntryStats(requests=100, failures=5, response_times={90: 100})
    bad = judge(_results({names.LOGIN: failing}), "p", _profile(login=_target()))
    assert not bad.passed
    assert "error budget" in next(j for j in bad.journeys if j.journey == "login").reasons[0]


def test_authentication_is_the_token_path_and_the_password_login_is_apart() -> None:
    """DESIGN.md §4's 25 ms is Keycloak + Redis: the refresh, not a bcrypt login."""
    login = EntryStats(requests=10, failures=0, response_times={120: 10})
    refresh = EntryStats(requests=90, failures=0, response_times={5: 90})
    verdict = judge(
        _results({names.LOGIN: login, names.REFRESH: refresh}),
        "p",
        _profile(authentication=_target(p99_ms=25, p95_ms=10), login=_target()),
    )
    auth = next(j for j in verdict.journeys if j.journey == "authentication")
    assert (auth.requests, auth.p99_ms, auth.passed) == (90, 5, True)
    login_verdict = next(j for j in verdict.journeys if j.journey == "login")
    assert (login_verdict.requests, login_verdict.p99_ms) == (10, 120)
    assert verdict.passed


def test_ai_inference_is_the_time_to_first_token() -> None:
    """DESIGN.md §4: AI inference 1,500 ms is the time to first token of a streamed reply."""
    ttft = EntryStats(requests=50, failures=0, response_times={700: 50})
    whole = EntryStats(requests=50, failures=0, response_times={4000: 50})
    verdict = judge(
        _results({names.CHAT_TTFT: ttft, names.CHAT_COMPLETE: whole}),
        "p",
        _profile(ai_inference=_target(p99_ms=1500)),
    )
    ai = next(j for j in verdict.journeys if j.journey == "ai_inference")
    assert (ai.entries, ai.p99_ms, ai.passed) == ((names.CHAT_TTFT,), 700, True)


@pytest.mark.parametrize(
    ("cpu_s", "warned", "expect"), [(1.0, False, 0), (9.5, False, 1), (1.0, True, 1)]
)
def test_cpu_bound_generator_is_a_warning_not_a_failure(
    cpu_s: float, warned: bool, expect: int
) -> None:
    verdict = judge(_results({}, cpu_s=cpu_s, warned=warned), "p", _profile())
    assert len(verdict.warnings) == expect
    assert verdict.passed


def test_results_round_trip_and_unreadable_results(tmp_path: Path) -> None:
    results = RunResults(
        host="h",
        entries={"a": _fast(3)},
        samples=[(0.5, "a", 5.0)],
        wall_s=1,
        cpu_s=0.5,
        cpu_warning=False,
    )
    results.write(tmp_path / "r.json")
    assert RunResults.read(tmp_path / "r.json") == results
    with pytest.raises(LocustRunError, match="no readable results"):
        RunResults.read(tmp_path / "missing.json")


def test_the_warm_up_is_left_out_of_the_verdict_and_counted() -> None:
    # Every user starts in second 0 (slow, one failure); then fast refreshes for 20 s.
    timeline = [(0, names.REFRESH, TimelineCell(10, 1, {90: 9, 5: 1}))]
    timeline += [(s, names.REFRESH, TimelineCell(10, 0, {5: 10})) for s in range(1, 21)]
    whole = EntryStats(requests=210, failures=1, response_times={90: 9, 5: 201}, errors={"x": 1})
    results = RunResults(
        host="http://x", entries={names.REFRESH: whole}, samples=[(0.2, names.REFRESH, 90.0)],
        wall_s=21.0, cpu_s=1.0, cpu_warning=False, timeline=timeline,
    )  # fmt: skip
    profile = Environment(
        availability=0.999, min_requests=10, journeys={"authentication": _target(p99_ms=25)}
    )
    strict = judge(results, "p", profile)
    assert not strict.passed
    assert strict.warmup_requests == 0
    verdict = judge(results, "p", profile, warmup_s=1)
    auth = next(j for j in verdict.journeys if j.journey == "authentication")
    assert verdict.passed
    assert (auth.requests, auth.failures, auth.p99_ms) == (200, 0, 5)
    assert (verdict.warmup_s, verdict.warmup_requests) == (1, 10)
    assert warmup_note(verdict).startswith("The first 1 s (the warm-up")
    assert warmup_note(strict) == ""
    later = results.after(0.5)  # a part-second leaves out the whole second
    assert later.entries[names.REFRESH].requests == 200
    assert later.entries[names.REFRESH].errors == {"x": 1}
    assert later.samples == []
    assert later.wall_s == 20.0
    whole_run = results.after(0)  # from the timeline too, as Locust's histograms round
    assert whole_run.entries[names.REFRESH].requests == 210
    assert whole_run.entries[names.REFRESH].response_times == {90: 9, 5: 201}
    no_timeline = _results({names.REFRESH: whole})
    assert no_timeline.after(5) is no_timeline  # an older results file: nothing to cut

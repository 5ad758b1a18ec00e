"""promtool unit tests of the generated rules, generated from the same definition.

``promtool test rules`` (https://prometheus.io/docs/prometheus/latest/configuration/unit_testing_rules/)
loads synthetic series, evaluates a rule file on them, and compares the alerts firing and the
values of PromQL expressions at given times with the expected ones. For every alert of
:data:`slos.definition.BURN_ALERTS` (long window L, short window S, factor F), every objective's
series carry one scenario of :data:`SCENARIOS` at a time: a share of bad requests constant until
the short window and constant within it, as multiples of F times the objective's error budget.
Both windows a bit above F: the alert fires, with its exact labels and annotations; a bit below:
quiet; a blip in the short window only: quiet (the long window shows the burn is not
significant); a burst that is over: quiet (the short window resets the alert). A last test has no
traffic at all: no alert fires and every burn rate is NaN, never 0, so an idle journey cannot read
as healthy. Each scenario also checks the recorded burn rates of the alert's two windows for every
objective (and the error ratios when both windows burn, and once the SLO period's average).

Timing: an alert's series are sampled every S/5 (60 samples per long window) and start a long and
a short window before the checks, all made at one time T after the longest windows. The rules are
evaluated at 0, T/3, 2T/3 and T (:data:`EVALUATIONS`: each evaluation of every rule costs time).
Alerts have no ``for``, so what fires at T depends only on the evaluation at T.
``group_eval_order`` evaluates the recording rules before the alerts that read them (promtool
orders the groups at random otherwise: ``orderedGroups`` in prometheus' cmd/promtool/unittest.go).
Prometheus 2.x selects ``[T-W, T]`` with both ends included (3.0 made it left-open:
https://prometheus.io/docs/prometheus/latest/migration/), so each window starts on a sample and a
ratio of two rates is the designed share, without extrapolation: the expected values are exact,
rounded to 0.001 because promtool 2.x compares floats exactly (an optional ``fuzzy_compare``
came in 2025: prometheus/prometheus#16395). The counters count whole requests
(:data:`REQUESTS_PER_SAMPLE`): a float's rounding error could read as a counter reset. A file
takes 1 to 2 s to test on one core.

The expectations come from the alerts' definition (long share = (before x (L - S) + last x S) / L,
short share = last; an alert fires when both shares over the budget exceed its factor), not from
PromQL: the tests check that the generated PromQL implements it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import reduce
from typing import Any

from .definition import BURN_ALERTS, BurnAlert, Environment, prom_duration
from .errors import SloError
from .rules import (
    ALERT_PREFIX,
    AVAILABILITY,
    BURN,
    RATIO,
    Objective,
    objectives,
)
from .rules import generate as generate_rules
from .sli import sli


def rules_file_name(env: str) -> str:
    """The name of ``env``'s generated rule file."""
    return f"librechat-slo-{env}.rules.yml"


def rule_tests_file_name(env: str) -> str:
    """The name of its promtool test file, which names the rule file relative to itself."""
    return f"librechat-slo-{env}.rules.test.yml"


@dataclass(frozen=True)
class Scenario:
    """Bad shares over one alert's long window, as multiples of its factor times the budget
    (capped at 1: every request bad)."""

    name: str
    """Short name (``fires`` also checks the error ratios)."""

    before: float
    """Over the first L - S of the long window."""

    last: float
    """Over the last S: the short window."""

    meaning: str
    """What it shows, in the test's name."""


SCENARIOS = (
    Scenario("fires", 1.1, 1.1, "both windows burn at 1.1x the factor: fires"),
    Scenario("below", 0.9, 0.9, "both windows burn at 0.9x the factor: quiet"),
    Scenario("blip", 0.0, 2.0, "only the short window burns: the long window keeps it quiet"),
    Scenario("recovered", 2.0, 0.0, "the burst is over: the short window resets it"),
)
"""Every alert is tested under each of these."""

REQUESTS_PER_SAMPLE = 2**24
"""Synthetic traffic: requests counted between two samples. Every count is a whole number, so
every counter value is exact in floating point; a power of two keeps every share exact too, and
2**24 resolves shares down to 6e-8 (the production budget is 1e-5)."""

SAMPLES_PER_SHORT_WINDOW = 5
"""The sample interval is an alert's short window over this."""


Labels = dict[str, str]
"""A series' labels, its metric name under ``__name__``."""


@dataclass(frozen=True)
class _Signal:
    """The objectives that read the same series, and those series."""

    members: tuple[Objective, ...]
    """Objectives whose ratio is computed from these series (the same PromQL)."""

    counters: tuple[tuple[Labels, str], ...]
    """Each series and what its counter grows by: ``good``, ``bad`` or ``all`` requests."""

    selectors: tuple[str, ...]
    """The selectors its objectives' rules read."""

    @property
    def series(self) -> list[str]:
        """The series written, in promtool's notation."""
        return [_text(labels) for labels, _ in self.counters]

    def reads(self, other: _Signal) -> bool:
        """One of its selectors selects one of ``other``'s series."""
        return any(_selects(s, labels) for s in self.selectors for labels, _ in other.counters)


@dataclass(frozen=True)
class _Timing:
    """One alert's windows and sample interval, milliseconds."""

    alert: BurnAlert
    """The alert."""

    long: int
    """Its long window, scaled."""

    short: int
    """Its short window, scaled."""

    step: int
    """Sample interval of its tests' series: divides both windows."""


def _timing(alert: BurnAlert, scale: float) -> _Timing:
    long, short = round(alert.long_s * scale * 1000), round(alert.short_s * scale * 1000)
    common = math.gcd(long, short)
    per = next(n for n in (SAMPLES_PER_SHORT_WINDOW, 4, 6, 3, 2, 1) if common % n == 0)
    return _Timing(alert, long, short, common // per)


@dataclass(frozen=True)
class _Plan:
    """When things happen, milliseconds."""

    timings: tuple[_Timing, ...]
    """Every alert's, shortest short window first (the shortest window recorded)."""

    at: int
    """When every check is made: after every alert's long and short window, on a sample of each
    alert's series."""

    every: int
    """The rules' evaluation interval: ``at`` over up to :data:`EVALUATIONS`."""

    period: int
    """The SLO's time window, scaled."""


EVALUATIONS = 3
"""Rule evaluations in each test after the one at 0: enough for the SLO period's average of the
shortest window's ratios to see two of them."""


MAX_SAMPLES = 20_000
"""Most samples a test's series may hold (the defaults need under 5,000)."""


def _plan(slos: Environment, scale: float) -> _Plan:
    timings = tuple(sorted((_timing(a, scale) for a in BURN_ALERTS), key=lambda t: t.short))
    if timings[0].short < 1000:
        raise SloError(
            f"at scale {scale:g} the shortest alert window is {timings[0].short} ms: "
            "too short to scrape, evaluate or test",
            hint="choose a scale of 1/300 or more (1/60 turns an hour into a minute)",
        )
    steps = reduce(math.lcm, (t.step for t in timings))
    at = math.ceil(max(t.long + t.short for t in timings) / steps) * steps
    if at // timings[0].step > MAX_SAMPLES:
        raise SloError(
            f"at scale {scale:g} the alert windows, rounded to milliseconds, have no common "
            "sample interval that keeps the promtool tests small",
            hint="choose a scale that keeps every window a whole number of seconds, e.g. 1/60",
        )
    per = next(n for n in range(EVALUATIONS, 0, -1) if at % n == 0)
    return _Plan(timings, at, at // per, round(slos.window_s * scale * 1000))


def _duration(ms: int) -> str:
    return prom_duration(ms / 1000)


# --------------------------------------------------------------------------- synthetic series
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)(=~|!=|!~|=)"((?:[^"\\]|\\.)*)"')


def _matchers(selector: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """A selector's metric name and its matchers (label -> operator, unescaped value)."""
    name, _, rest = selector.partition("{")
    found = {label: (op, re.sub(r"\\(.)", r"\1", raw)) for label, op, raw in _MATCHER.findall(rest)}
    return name.strip(), found


def _selects(selector: str, labels: Labels) -> bool:
    """``selector`` selects the series ``labels`` (PromQL regexes are anchored)."""
    name, found = _matchers(selector)
    if name and labels["__name__"] != name:
        return False
    for label, (op, value) in found.items():
        have = labels.get(label, "")
        matched = {
            "=": have == value,
            "!=": have != value,
            "=~": re.fullmatch(value, have) is not None,
            "!~": re.fullmatch(value, have) is None,
        }[op]
        if not matched:
            return False
    return True


def _alternation(regex: str, i: int) -> tuple[str, int]:
    """A text matching the alternation at ``regex[i:]`` (its first branch), and where it ends."""
    first: str | None = None
    current = ""
    while i < len(regex) and regex[i] != ")":
        if regex[i] == "|":
            first = current if first is None else first
            current, i = "", i + 1
            continue
        atom, i = _atom(regex, i)
        times = 1
        if i < len(regex) and regex[i] in "*+?{":
            if regex[i] == "{":
                end = regex.index("}", i)
                times, i = int(regex[i + 1 : end].split(",", maxsplit=1)[0] or 0), end + 1
            else:
                times, i = (1 if regex[i] == "+" else 0), i + 1
            i += 1 if i < len(regex) and regex[i] == "?" else 0  # lazy
        current += atom * times
    return (current if first is None else first), i


def _atom(regex: str, i: int) -> tuple[str, int]:
    char = regex[i]
    if char == "\\":
        return {"d": "0", "w": "a", "s": " "}.get(regex[i + 1], regex[i + 1]), i + 2
    if char == ".":
        return "0", i + 1
    if char == "[":
        end = regex.index("]", i + 2)
        body = regex[i + 1 : end]
        return (body[1] if body[0] == "\\" else body[0]), end + 1
    if char == "(":
        start = i + 3 if regex.startswith("(?:", i) else i + 1
        text, end = _alternation(regex, start)
        return text, end + 1
    return char, i + 1


def _example(regex: str) -> str:
    """A value matching ``regex`` (literals, escapes, ``.``, classes, groups, alternation and
    quantifiers, as the indicators' selectors use them)."""
    try:
        candidate, _ = _alternation(regex, 0)
    except (IndexError, ValueError):
        candidate = ""
    if re.fullmatch(regex, candidate) is None:
        raise SloError(f"cannot make a synthetic label value matching {regex!r}")
    return candidate


def _series(selector: str, **override: str) -> Labels:
    """A series ``selector`` selects; ``override`` sets labels."""
    name, found = _matchers(selector)
    labels = {"__name__": name}
    for label, (op, value) in found.items():
        if op not in {"=", "=~"}:
            raise SloError(f"cannot make a synthetic series for {selector}: {label}{op}")
        labels[label] = value if op == "=" else _example(value)
    return labels | override


def _text(labels: Labels) -> str:
    """``labels`` in promtool's series notation."""
    quoted = (
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in labels.items()
        if k != "__name__"
    )
    return labels["__name__"] + "{" + ",".join(quoted) + "}"


def _signal(obj: Objective, slos: Environment) -> _Signal:
    series = sli(slos.indicators, obj.journey)
    if obj.objective == AVAILABILITY:
        name, requests = _matchers(series.requests)
        errors_name, errors = _matchers(series.errors)
        selectors = (series.requests, series.errors)
        if errors_name != name:  # a counter of failures beside one of every request
            return _Signal(
                (obj,),
                ((_series(series.requests), "all"), (_series(series.errors), "bad")),
                selectors,
            )
        # One counter, the failures told by a status label.
        status = next((label for label in errors if label not in requests), None)
        if status is None:
            raise SloError(f"cannot tell {series.errors} from {series.requests}")
        good = _series(series.errors, **{status: "200"})
        return _Signal((obj,), ((good, "good"), (_series(series.errors), "bad")), selectors)
    threshold = next(
        (
            o.threshold_ms
            for o in slos.journeys[obj.journey].latency
            if f'le="{series.le(o.threshold_ms)}"' in obj.bad
        ),
        None,
    )
    if threshold is None:
        raise SloError(f"no latency threshold of {obj.journey} matches {obj.bad}")
    fast = _series(series.buckets, le=series.le(threshold))
    every = _series(series.buckets, le="+Inf")
    return _Signal((obj,), ((fast, "good"), (every, "all")), (series.buckets,))


def _batches(slos: Environment) -> list[list[_Signal]]:
    """Signals merged when their objectives read the same PromQL, then split into batches in
    which no signal reads another's series (one test group per batch and scenario)."""
    merged: dict[tuple[str, str], _Signal] = {}
    for obj in objectives(slos):
        known = merged.get((obj.bad, obj.total))
        merged[(obj.bad, obj.total)] = (
            _signal(obj, slos)
            if known is None
            else _Signal((*known.members, obj), known.counters, known.selectors)
        )
    batches: list[list[_Signal]] = []
    for signal in merged.values():
        batch = next(
            (b for b in batches if not any(s.reads(signal) or signal.reads(s) for s in b)), None
        )
        if batch is None:
            batches.append([signal])
        else:
            batch.append(signal)
    return batches


def _values(segments: list[tuple[int, int]]) -> str:
    """promtool's expanding notation of a counter growing by ``increment`` for ``steps`` samples,
    segment after segment, from 0."""
    parts: list[str] = []
    value = 0
    for increment, steps in segments:
        if not parts:
            parts.append(f"0+{increment}x{steps}")
            value = increment * steps
        else:
            start = value + increment
            parts.append(f"{start}+{increment}x{steps - 1}")
            value = start + increment * (steps - 1)
    return " ".join(parts)


# --------------------------------------------------------------------------- expectations
def _bad(multiple: float, timing: _Timing, budget: float) -> int:
    """Bad requests per sample: ``multiple`` times the factor times the budget (at most all)."""
    return min(
        REQUESTS_PER_SAMPLE, round(multiple * timing.alert.factor * budget * REQUESTS_PER_SAMPLE)
    )


def _rounded(value: float) -> float:
    """``value`` as PromQL's ``round(value, 0.001)`` gives it."""
    return math.floor(value * 1000 + 0.5) / 1000


def _labels_text(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def _check(expr: str, at: int, labels: dict[str, str], value: float) -> dict[str, Any]:
    return {
        "expr": f"round({expr}, 0.001)",
        "eval_time": _duration(at),
        "exp_samples": [{"labels": _labels_text(labels), "value": _rounded(value)}],
    }


def _annotations(rule: dict[str, Any], long_burn: float) -> dict[str, str]:
    """The rule's annotations as Prometheus renders them when the long window burns so."""
    template = '{{ $value | printf "%.1f" }}'
    return {k: v.replace(template, f"{long_burn:.1f}") for k, v in rule["annotations"].items()}


class _Builder:
    """The test groups of one environment."""

    def __init__(self, env: str, slos: Environment, rules: dict[str, Any], plan: _Plan) -> None:
        self.env = env
        self.plan = plan
        self.objectives = objectives(slos)
        self.batches = _batches(slos)
        self.alert_rules = {
            (r["alert"], r["labels"]["slo_journey"], r["labels"]["slo_objective"]): r
            for group in rules["groups"]
            for r in group["rules"]
            if "alert" in r
        }

    def labels(self, obj: Objective) -> dict[str, str]:
        """The labels of ``obj``'s recorded series."""
        return {**obj.labels, "slo_env": self.env}

    def span(self, timing: _Timing, *, period: bool) -> int:
        """How long before the checks a group's series start: a long and a short window; for
        the period's check, enough for the shortest window's ratio to be recorded at two
        evaluations or more (a whole multiple of the sample interval)."""
        span = timing.long + timing.short
        if period:
            span = max(
                span, math.ceil(timing.long / self.plan.every) * self.plan.every + timing.short
            )
        return math.ceil(span / timing.step) * timing.step

    def period_share(self, timing: _Timing, start: int, before: float, last: float) -> float:
        """The SLO period's ratio: the mean of the shortest window's ratios recorded at each
        evaluation in the period that sees two samples or more (each ratio is ``before``, or
        ``last`` once the short window is in the last phase)."""
        plan = self.plan
        times = [
            t
            for t in range(plan.every, plan.at + 1, plan.every)
            if t >= plan.at - plan.period and t - start >= timing.step
        ]
        return sum(last if t > plan.at - timing.short else before for t in times) / len(times)

    def group(
        self, timing: _Timing, scenario: Scenario, batch: list[_Signal], *, period: bool
    ) -> dict[str, Any]:
        """One alert under one scenario, for the objectives of one batch; ``period``: check the
        SLO period's ratio too."""
        index = self.batches.index(batch)
        part = f" (objectives, part {index + 1})" if len(self.batches) > 1 else ""
        alert, at, n = timing.alert, self.plan.at, REQUESTS_PER_SAMPLE
        start = at - self.span(timing, period=period)
        steps = ((at - timing.short - start) // timing.step, timing.short // timing.step)
        missing = f"_x{start // timing.step} " if start else ""
        name = ALERT_PREFIX + alert.name
        inputs, expected, checks = [], [], []
        for signal in batch:
            designed = signal.members[0].budget
            bad = [
                (_bad(scenario.before, timing, designed), steps[0]),
                (_bad(scenario.last, timing, designed), steps[1]),
            ]
            grows = {
                "bad": bad,
                "good": [(n - b, count) for b, count in bad],
                "all": [(n, count) for count in steps],
            }
            inputs += [
                {"series": _text(labels), "values": missing + _values(grows[kind])}
                for labels, kind in signal.counters
            ]
            before, last = bad[0][0] / n, bad[1][0] / n
            shares = {
                timing.long: (before * (timing.long - timing.short) + last * timing.short)
                / timing.long,
                timing.short: last,
            }
            if period:
                shares[self.plan.period] = self.period_share(timing, start, before, last)
            for obj in signal.members:
                labels = self.labels(obj)
                burn_long, burn_short = shares[timing.long] / obj.budget, last / obj.budget
                if burn_long > alert.factor and burn_short > alert.factor:
                    rule = self.alert_rules[(name, obj.journey, obj.objective)]
                    expected.append(
                        {
                            "exp_labels": {**labels, "severity": alert.severity},
                            "exp_annotations": _annotations(rule, burn_long),
                        }
                    )
                for window, share in shares.items():
                    selector = _duration(window) + _labels_text(labels)
                    checks.append(_check(f"{BURN}{selector}", at, labels, share / obj.budget))
                    if scenario.name == "fires":
                        checks.append(_check(f"1e6 * {RATIO}{selector}", at, labels, share * 1e6))
        return {
            "name": f"{name}: {scenario.meaning}{part}",
            "interval": _duration(timing.step),
            "input_series": inputs,
            "alert_rule_test": [
                {"eval_time": _duration(at), "alertname": name, "exp_alerts": expected}
            ],
            "promql_expr_test": checks,
        }

    def idle(self) -> dict[str, Any]:
        """No traffic at all: no alert, and a NaN burn rate over every window."""
        plan = self.plan
        step = min(t.step for t in plan.timings)
        flat = f"0+0x{plan.at // step}"
        series = sorted({s for batch in self.batches for signal in batch for s in signal.series})
        windows = {plan.period} | {w for t in plan.timings for w in (t.long, t.short)}
        selector = f'{{slo_env="{self.env}"}}'
        return {
            "name": "no traffic: no alert fires, and every burn rate is NaN (never 0: not healthy)",
            "interval": _duration(step),
            "input_series": [{"series": s, "values": flat} for s in series],
            "alert_rule_test": [
                {
                    "eval_time": _duration(plan.at),
                    "alertname": ALERT_PREFIX + t.alert.name,
                    "exp_alerts": [],
                }
                for t in plan.timings
            ],
            "promql_expr_test": [
                {
                    "expr": f"count({BURN}{w}{selector} != {BURN}{w}{selector})",
                    "eval_time": _duration(plan.at),
                    "exp_samples": (
                        [{"labels": "{}", "value": len(self.objectives)}] if self.objectives else []
                    ),
                }
                for w in (_duration(w) for w in sorted(windows))
            ],
        }


def generate(
    env: str,
    slos: Environment,
    *,
    scale: float = 1.0,
    interval: str = "30s",
    rule_file: str | None = None,
) -> dict[str, Any]:
    """The promtool test file for ``env``'s rules as :func:`slos.rules.generate` makes them with
    the same ``scale`` and ``interval``; ``rule_file`` is the rule file's path relative to the
    test file (default: :func:`rules_file_name`, beside it)."""
    rules = generate_rules(env, slos, scale=scale, interval=interval)
    plan = _plan(slos, scale)
    builder = _Builder(env, slos, rules, plan)
    tests = [
        builder.group(timing, scenario, batch, period=timing == plan.timings[0])
        for timing in plan.timings
        for scenario in SCENARIOS
        for batch in builder.batches
    ]
    tests.append(builder.idle())
    return {
        "rule_files": [rule_file or rules_file_name(env)],
        "evaluation_interval": _duration(plan.every),
        "group_eval_order": [group["name"] for group in rules["groups"]],
        "tests": tests,
    }

"""The mock LLM's costs: drawn from the shipped measurements, reproducibly, unless fixed."""

from __future__ import annotations

import bisect
import math
from statistics import NormalDist

import pytest

from librechat_sim.config import LLMConfig
from librechat_sim.costs import (
    TOKENS_PER_SECOND,
    TTFT_MS,
    Draw,
    LogNormal,
    QuantileTable,
    draw,
    reply_tokens_table,
    uniforms,
)
from librechat_sim.llm import cli_flags

DRAWS = 2000
TOLERANCE = 0.04
"""Largest gap allowed between the draws' distribution and the shipped one: the KS critical value
for 2,000 draws at 1 % is 1.63 / sqrt(2000) = 0.036, plus a little for whole-token rounding."""


def _draws(seed: int = 7) -> list[Draw]:
    return [draw(LLMConfig(seed=seed), f"How should I scale {i:06x}?") for i in range(DRAWS)]


def _ks(values: list[float], cdf: list[float]) -> float:
    """Kolmogorov-Smirnov distance between sorted ``values`` and their model CDF values."""
    n = len(values)
    return max(max((i + 1) / n - c, c - i / n) for i, c in enumerate(cdf))


def test_reply_lengths_follow_the_azure_trace_table() -> None:
    table = reply_tokens_table()
    lengths = sorted(d.reply_tokens for d in _draws())
    for share, value in table.points[1:-1]:
        at_most = bisect.bisect_right(lengths, value) / DRAWS
        below = bisect.bisect_left(lengths, value) / DRAWS
        assert below - TOLERANCE <= share <= at_most + TOLERANCE, (share, value, below, at_most)
    assert 100 < lengths[DRAWS // 2] < 160  # the trace's median is 131 tokens


@pytest.mark.parametrize(
    ("field", "model"), [("ttft_ms", TTFT_MS), ("tokens_per_second", TOKENS_PER_SECOND)]
)
def test_timings_follow_their_lognormal_fits(field: str, model: LogNormal) -> None:
    values = sorted(getattr(d, field) for d in _draws())
    normal = NormalDist()
    cdf = [normal.cdf(math.log(v / model.median) / model.sigma) for v in values]
    assert _ks(values, cdf) < TOLERANCE


def test_the_ttft_fit_reproduces_the_published_percentiles() -> None:
    """GPT-4o-mini, 7 days of probes: P50 645 ms, P95 1,094 ms; the fit's P99 is 1,362 ms."""
    assert TTFT_MS.quantile(0.5) == pytest.approx(645)
    assert TTFT_MS.quantile(0.95) == pytest.approx(1094)
    assert TTFT_MS.quantile(0.99) == pytest.approx(1361.7, abs=0.5)
    assert TOKENS_PER_SECOND.quantile(0.5) == pytest.approx(105.3)


def test_a_draw_is_a_function_of_the_seed_and_the_prompt() -> None:
    config = LLMConfig(seed=3)
    assert draw(config, "hello") == draw(LLMConfig(seed=3), "hello")
    assert draw(config, "hello") != draw(LLMConfig(seed=4), "hello")
    assert draw(config, "hello") != draw(config, "hello!")
    assert all(0 < u < 1 for u in uniforms(3, "hello"))


def test_fixed_values_replace_the_draws() -> None:
    fixed = LLMConfig(ttft_ms=20, tokens_per_second=500, reply_tokens=12)
    assert draw(fixed, "anything") == Draw(ttft_ms=20, tokens_per_second=500, reply_tokens=12)
    only_length = draw(LLMConfig(reply_tokens=5, seed=1), "x")
    assert only_length.reply_tokens == 5
    assert only_length.ttft_ms == draw(LLMConfig(seed=1), "x").ttft_ms


def test_the_mock_gets_only_the_fixed_values_on_its_command_line() -> None:
    assert cli_flags(LLMConfig()) == ["--seed", "0"]
    assert cli_flags(LLMConfig(ttft_ms=20, reply_tokens=12, seed=9)) == [
        "--seed", "9", "--ttft-ms", "20", "--reply-tokens", "12",
    ]  # fmt: skip


def test_the_shipped_table_names_its_source() -> None:
    from importlib import resources  # noqa: PLC0415

    text = resources.files("librechat_sim").joinpath("data", "azure_conv_generated_tokens.csv")
    header = text.read_text().splitlines()[:4]
    assert "Azure/AzurePublicDataset" in header[1]
    assert "790921015d50dd6aae7f7e47f39ba0e235ad6b08" in header[2]


@pytest.mark.parametrize(
    "text",
    [
        "quantile,value\n0.5,3\n1,4\n",  # does not start at share 0
        "quantile,value\n0,3\n0.5,2\n1,4\n",  # values fall
        "quantile,value\n0,3\n0.5,3\n0.5,4\n1,4\n",  # a share repeats
        "quantile,value\n",
    ],
)
def test_malformed_quantile_tables_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="quantile table"):
        QuantileTable.parse(text)


def test_quantiles_interpolate_between_points() -> None:
    table = QuantileTable.parse("# comment\nquantile,value\n0,10\n0.5,20\n1,40\n")
    assert [table.quantile(u) for u in (0, 0.25, 0.5, 0.75, 1)] == [10, 15, 20, 30, 40]
    with pytest.raises(ValueError, match="outside"):
        table.quantile(1.5)


def test_a_lognormal_needs_a_percentile_other_than_the_median() -> None:
    with pytest.raises(ValueError, match="cannot fit"):
        LogNormal.from_percentile(100, 200, 0.5)

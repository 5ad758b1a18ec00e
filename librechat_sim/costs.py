"""What the simulator's stand-ins cost, taken from LibreChat's source and from measurements.

- Passwords: LibreChat hashes with bcryptjs at cost 10 and checks a login with bcryptjs's
  asynchronous ``compare`` (see :data:`BCRYPT_COST`); the simulator uses the ``bcrypt`` package at
  the same cost (``librechat_sim.auth``).
- The mock LLM's time to first token and token rate: lognormal distributions fitted to a published
  measurement of GPT-4o-mini (:data:`TTFT_MS`, :data:`TOKENS_PER_SECOND`).
- Reply length: the quantile table of generated tokens in Azure's LLM conversation trace
  (``data/azure_conv_generated_tokens.csv``, :func:`reply_tokens_table`).

A request's draw is a function of the seed and the prompt (:func:`draw`), so a run repeats with the
same seed, and a replica that takes a job over mid-reply asks for the same reply and gets the same
length. Values set in :class:`~librechat_sim.config.LLMConfig` replace the draws.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import math
from dataclasses import dataclass
from importlib import resources
from statistics import NormalDist

from .config import LLMConfig

BCRYPT_COST = 10
"""bcrypt's cost factor (log2 of the rounds). LibreChat: ``bcrypt.genSaltSync(10)`` when a user
registers and ``bcrypt.hashSync(password, 10)`` on a password reset
(danny-avila/LibreChat ``api/server/services/AuthService.js``), with ``bcryptjs`` ^2.4.3
(``api/package.json``)."""

_NORMAL = NormalDist()


@dataclass(frozen=True)
class LogNormal:
    """A lognormal distribution given by its median and the standard deviation of its log."""

    median: float
    """The 50th percentile."""

    sigma: float
    """Standard deviation of the natural log of a value."""

    @classmethod
    def from_percentile(cls, median: float, value: float, percentile: float) -> LogNormal:
        """The lognormal with this median whose ``percentile`` (0..1) is ``value``."""
        if not (median > 0 and value > 0 and 0 < percentile < 1 and percentile != 0.5):
            raise ValueError(f"cannot fit a lognormal to median {median}, {value} at {percentile}")
        return cls(median, math.log(value / median) / _NORMAL.inv_cdf(percentile))

    def quantile(self, u: float) -> float:
        """The value below which a share ``u`` (0 < u < 1) of draws falls."""
        return self.median * math.exp(self.sigma * _NORMAL.inv_cdf(u))


@dataclass(frozen=True)
class QuantileTable:
    """An empirical distribution as (share, value) points; values between points are linear."""

    points: tuple[tuple[float, float], ...]
    """``(share, value)`` pairs, shares from 0 to 1, both ascending."""

    def quantile(self, u: float) -> float:
        """The interpolated value at share ``u`` (0..1)."""
        if not 0 <= u <= 1:
            raise ValueError(f"share {u} is outside 0..1")
        index = bisect.bisect_left([p for p, _ in self.points], u)
        if index == 0:
            return self.points[0][1]
        (p0, v0), (p1, v1) = self.points[index - 1], self.points[index]
        return v0 + (v1 - v0) * (u - p0) / (p1 - p0)

    @classmethod
    def parse(cls, text: str) -> QuantileTable:
        """Read ``quantile,value`` rows (``#`` lines are comments; the first other line is the
        header)."""
        rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
        points = tuple((float(p), float(v)) for p, v in (row.split(",") for row in rows[1:]))
        if not points or points[0][0] != 0 or points[-1][0] != 1:
            raise ValueError("a quantile table runs from share 0 to share 1")
        if any(b[0] <= a[0] or b[1] < a[1] for a, b in itertools.pairwise(points)):
            raise ValueError("a quantile table's shares ascend, and its values do not fall")
        return cls(points)


TTFT_MS = LogNormal.from_percentile(645.0, 1094.0, 0.95)
"""Time to first token, ms. GPT-4o-mini probed every 60 s for 7 days through OpenRouter (10,080
probes, prompt "Hello", at most 20 tokens): P50 645 ms, P95 1,094 ms (Jonathan Wrede, "I
monitored 6 LLM APIs for 7 days", jonathanwrede.de/en/blog/i-monitored-6-llm-apis-for-7-days/,
also Jwrede/llmprobe ``blog/llm-latency-benchmark.md``, 2026). sigma = ln(1094/645) / z(0.95)
= 0.5283 / 1.6449 = 0.3212, so P99 = 645 * exp(2.3263 * 0.3212) = 1,362 ms."""

TOKENS_PER_SECOND = LogNormal(105.3, math.log(72.45 / 56.87) / (2 * _NORMAL.inv_cdf(0.75)))
"""Token rate after the first token, tokens/s. Median: GPT-4o-mini's 105.3 tok/s in the same
7-day measurement as :data:`TTFT_MS` (its table gives one figure, taken as the median). Spread:
the interquartile range of GPT-4o's per-request rate on OpenAI's API, 56.87..72.45 tok/s
(community.openai.com/t/gpt-4o-tokens-per-second-comparable-to-gpt-3-5-turbo-data-and-analysis/
768559, May 2024): sigma = ln(72.45/56.87) / (2 * 0.6745) = 0.1795, so P1 = 69 and P99 = 160."""

REPLY_TOKENS_FILE = "azure_conv_generated_tokens.csv"
"""The reply-length table in ``librechat_sim/data/`` (its header says how it was made)."""


@functools.cache
def reply_tokens_table() -> QuantileTable:
    """Generated tokens per request in Azure's LLM conversation trace (see the data file)."""
    text = resources.files("librechat_sim").joinpath("data", REPLY_TOKENS_FILE).read_text()
    return QuantileTable.parse(text)


@dataclass(frozen=True)
class Draw:
    """The timing and length of one reply."""

    ttft_ms: float
    """Time to first token, ms."""

    tokens_per_second: float
    """Token rate after the first token."""

    reply_tokens: int
    """Tokens in the reply."""


def uniforms(seed: int, prompt: str, count: int = 3) -> tuple[float, ...]:
    """``count`` numbers in (0, 1), uniform and independent, fixed by ``seed`` and ``prompt``."""
    digest = hashlib.sha256(f"{seed}\x00{prompt}".encode()).digest()
    return tuple(
        (int.from_bytes(digest[8 * i : 8 * i + 8], "big") + 0.5) / 2**64 for i in range(count)
    )


def draw(config: LLMConfig, prompt: str) -> Draw:
    """The reply to ``prompt``: the values ``config`` fixes, the others drawn (seed + prompt)."""
    u_ttft, u_rate, u_length = uniforms(config.seed, prompt)
    ttft = config.ttft_ms if config.ttft_ms is not None else TTFT_MS.quantile(u_ttft)
    rate = (
        config.tokens_per_second
        if config.tokens_per_second is not None
        else TOKENS_PER_SECOND.quantile(u_rate)
    )
    length = (
        config.reply_tokens
        if config.reply_tokens is not None
        else max(1, round(reply_tokens_table().quantile(u_length)))
    )
    return Draw(ttft_ms=ttft, tokens_per_second=rate, reply_tokens=length)

"""Whether a count stands out from its baseline: pure functions (no database, no Flask).

- ``poisson``: the baseline mean ``m`` of the counts in windows of the same length is the expected count; the
  window's count ``k`` is an alert when P(X >= k | Poisson(m)) < ``p_value`` (default 0.001). A baseline of nothing
  is taken as ``MIN_MEAN`` (a new kind of complaint clustering in one street is exactly what to see).
- ``zscore``: (k - m) / s >= ``z`` with s the standard deviation of the baseline windows' counts (at least
  sqrt(max(m, MIN_MEAN)): a flat history does not make every extra case an alert).

Either way ``k`` must reach ``min_count``. The level is red when the evidence is 10x stronger (p < p_value / 10,
or z >= 1.5 x the threshold), else yellow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_MEAN = 0.2


@dataclass(frozen=True)
class Verdict:
    alert: bool
    level: str  # yellow | red | ""
    expected: float
    score: float  # the p-value (poisson) or z (zscore)


def poisson_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean), summed in log space (no overflow for large k)."""
    if k <= 0:
        return 1.0
    mean = max(mean, 1e-12)
    below, term = 0.0, math.exp(-mean)
    for i in range(k):
        if i:
            term *= mean / i
        below += term
    return max(0.0, 1.0 - below) if below < 0.999999 else _upper_sum(k, mean)


def _upper_sum(k: int, mean: float) -> float:
    """P(X >= k) summed upwards from k (precise when the tail is tiny)."""
    log_term = -mean + k * math.log(mean) - math.lgamma(k + 1)
    total, i = 0.0, k
    term = math.exp(log_term)
    while term > 1e-300 and i < k + 10000:
        total += term
        i += 1
        term *= mean / i
        if term < total * 1e-16:
            break
    return total


def mean_sd(counts: list[int], windows: int) -> tuple[float, float]:
    """Mean and population standard deviation of ``windows`` counts, of which ``counts`` are the non-zero ones."""
    if windows <= 0:
        return 0.0, 0.0
    total = sum(counts)
    mean = total / windows
    squares = sum(c * c for c in counts) / windows
    return mean, math.sqrt(max(squares - mean * mean, 0.0))


def judge(
    k: int, mean: float, sd: float, method: str = "poisson", p_value: float = 0.001, z: float = 3.0, min_count: int = 5
) -> Verdict:
    expected = max(mean, MIN_MEAN)
    if method == "zscore":
        spread = max(sd, math.sqrt(expected))
        score = (k - mean) / spread
        hit = k >= min_count and score >= z
        return Verdict(hit, ("red" if score >= 1.5 * z else "yellow") if hit else "", round(mean, 3), round(score, 3))
    p = poisson_tail(k, expected)
    hit = k >= min_count and p < p_value
    return Verdict(hit, ("red" if p < p_value / 10 else "yellow") if hit else "", round(mean, 3), p)

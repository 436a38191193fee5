"""hotline/alerts/rules.py: the Poisson tail and the z-score rule against hand-computed values."""

from __future__ import annotations

import math

import pytest

from hotline.alerts.rules import MIN_MEAN, judge, mean_sd, poisson_tail


def test_poisson_tail_by_hand():
    # P(X >= 3 | 2) = 1 - e^-2 (1 + 2 + 2) = 1 - 5 e^-2
    assert poisson_tail(3, 2.0) == pytest.approx(1 - 5 * math.exp(-2))
    assert poisson_tail(0, 4.0) == 1.0
    # far in the tail the upward sum keeps precision: P(X >= 40 | 1) ~ e^-1 / 40! (next terms add ~2.5 %)
    assert poisson_tail(40, 1.0) == pytest.approx(
        math.exp(-1) / math.factorial(40) * (1 + 1 / 41 + 1 / (41 * 42)), rel=1e-3
    )


def test_mean_and_sd_count_the_empty_windows():
    assert mean_sd([2, 2, 2, 2], 4) == (2.0, 0.0)
    mean, sd = mean_sd([4], 4)  # one window of 4, three of 0
    assert mean == 1.0 and sd == pytest.approx(math.sqrt(3))


def test_poisson_rule():
    # 7 cases where 0.1 are expected (floored to MIN_MEAN): p = P(X >= 7 | 0.2) ~ 2.5e-7 -> red
    verdict = judge(7, 0.1, 0.0)
    assert verdict.alert and verdict.level == "red" and verdict.score == pytest.approx(poisson_tail(7, MIN_MEAN))
    # 5 where 1.0 expected: p = 0.00366 -> not below 0.001
    assert not judge(5, 1.0, 1.0).alert
    # below min_count never alerts, however unlikely
    assert not judge(4, 0.0, 0.0, min_count=5).alert


def test_zscore_rule():
    # (12 - 4) / max(sd=1, sqrt(4)=2) = 4 >= 3 -> yellow (red from 4.5)
    verdict = judge(12, 4.0, 1.0, method="zscore")
    assert verdict.alert and verdict.level == "yellow" and verdict.score == 4.0
    assert judge(14, 4.0, 1.0, method="zscore").level == "red"  # z = 5
    assert not judge(9, 4.0, 1.0, method="zscore").alert  # z = 2.5

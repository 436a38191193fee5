"""Periods of the figures (pure): previous period, same period last year, local hour bounds, runs of days; the
dashboards' percentages ("—" for nothing to measure) and the demo history's plan (seeded, in time order)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

from hotline.dashboards.texts import pct
from hotline.seed.history import plan
from hotline.stats.periods import Period, day_bounds, hour_bounds, runs


def test_previous_period_has_the_same_length_just_before():
    march = Period(date(2025, 3, 1), date(2025, 3, 31))
    assert march.days == 31
    assert march.previous() == Period(date(2025, 1, 29), date(2025, 2, 28))
    assert Period(date(2026, 12, 8), date(2026, 12, 8)).previous() == Period(date(2026, 12, 7), date(2026, 12, 7))


def test_same_period_last_year_maps_29_february_to_the_28th():
    assert Period(date(2024, 2, 1), date(2024, 2, 29)).last_year() == Period(date(2023, 2, 1), date(2023, 2, 28))


def test_local_days_and_hours_in_utc():
    zone = ZoneInfo("Asia/Shanghai")
    start, end = day_bounds(date(2025, 3, 31), zone)
    assert (start, end) == (datetime(2025, 3, 30, 16, tzinfo=UTC), datetime(2025, 3, 31, 16, tzinfo=UTC))
    hours = hour_bounds(date(2025, 3, 31), zone)
    assert len(hours) == 24 and hours[0][0] == start and hours[-1][1] == end
    assert all(a[1] == b[0] for a, b in pairwise(hours))  # contiguous, no gap or overlap


def test_runs_of_days():
    days = [date(2025, 3, d) for d in (5, 1, 2, 3, 7, 8)]
    assert runs(days) == [
        (date(2025, 3, 1), date(2025, 3, 3)),
        (date(2025, 3, 5), date(2025, 3, 5)),
        (date(2025, 3, 7), date(2025, 3, 8)),
    ]


def test_percentages_show_a_dash_for_nothing_to_measure():
    assert pct(None) == "—" and pct(0.8333) == "83.3%" and pct(0.0) == "0.0%"


def test_history_plan_is_seeded_and_in_time_order():
    zone = ZoneInfo("Asia/Shanghai")
    cats = ["城乡建设/物业管理/电梯", "交通运输/出租车管理/运价监管", "环境保护/环境污染/噪声"]
    one = plan(14, date(2026, 12, 8), zone, cats, ["D01S01", "D02S01", "D03S01"], per_day=10, seed=7)
    two = plan(14, date(2026, 12, 8), zone, cats, ["D01S01", "D02S01", "D03S01"], per_day=10, seed=7)
    assert [(c.created_at, c.category, c.kind) for c in one] == [(c.created_at, c.category, c.kind) for c in two]
    assert [c.created_at for c in one] == sorted(c.created_at for c in one)
    assert all(s.at >= c.created_at for c in one for s in c.steps)  # every step after registration
    assert sum(1 for c in one if c.steps[0].action == "answer") > 0  # some answered on the spot
    assert any(c.content.startswith("小区物业") for c in one)  # the cluster of the last days

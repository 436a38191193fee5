"""Table tests for hotline.sla.clock's calendar arithmetic: deadlines, pauses, overrides, missing years and
work minutes. Expected values worked out by hand from the 2025/2026 official calendar (chinese_calendar 1.11.0),
office hours 09:00-18:00, 1 working day = 9 h."""

import warnings
from datetime import UTC, date, datetime, time, timedelta

import pytest

from hotline.sla import clock as sla
from tests.unit.sla_support import SH, ch, nd, sh, wd, wh

WorkCalendar = sla.WorkCalendar


# 2026-03-02..06 and 09..13 are ordinary Mon..Fri weeks.
DEADLINE_ROWS = [
    # id, start, limit, pauses, expected
    ("wd-in-office-same-time-next-day", sh(2026, 3, 9, 10), wd(1), (), sh(2026, 3, 10, 10)),
    ("wd-friday-evening-due-monday-end", sh(2026, 3, 6, 20), wd(1), (), sh(2026, 3, 9, 18)),
    ("wd-saturday-due-monday-end", sh(2026, 3, 7, 11), wd(1), (), sh(2026, 3, 9, 18)),
    ("wd-08:59-counts-from-09:00", sh(2026, 3, 9, 8, 59), wd(1), (), sh(2026, 3, 9, 18)),
    ("wd-09:00-exactly", sh(2026, 3, 9, 9), wd(1), (), sh(2026, 3, 9, 18)),
    ("wd-17:59-one-minute-today", sh(2026, 3, 9, 17, 59), wd(1), (), sh(2026, 3, 10, 17, 59)),
    ("wd-18:00-counts-from-next-day", sh(2026, 3, 9, 18), wd(1), (), sh(2026, 3, 10, 18)),
    ("wd-2-over-weekend", sh(2026, 3, 6, 15), wd(2), (), sh(2026, 3, 10, 15)),
    ("wd-7-reply", sh(2026, 3, 9, 10), wd(7), (), sh(2026, 3, 18, 10)),
    ("wd-half-day", sh(2026, 3, 9, 10), wd(0.5), (), sh(2026, 3, 9, 14, 30)),
    # Spring Festival 2026: Sat 02-14 is a make-up workday, 02-15..02-23 off, Sat 02-28 workday.
    ("sf-friday-to-makeup-saturday", sh(2026, 2, 13, 10), wd(1), (), sh(2026, 2, 14, 10)),
    ("sf-makeup-saturday-to-tuesday", sh(2026, 2, 14, 10), wd(1), (), sh(2026, 2, 24, 10)),
    ("sf-7-days-uses-both-saturdays", sh(2026, 2, 13, 10), wd(7), (), sh(2026, 3, 2, 10)),
    ("sf-start-in-holiday", sh(2026, 2, 15, 12), wd(1), (), sh(2026, 2, 24, 18)),
    # National Day 2025: Sun 09-28 workday, 10-01..10-08 off, Sat 10-11 workday.
    ("nd25-friday-evening-to-makeup-sunday", sh(2025, 9, 26, 19), wd(1), (), sh(2025, 9, 28, 18)),
    ("nd25-before-holiday", sh(2025, 9, 30, 10), wd(1), (), sh(2025, 10, 9, 10)),
    ("nd25-3-days-ends-makeup-saturday", sh(2025, 9, 30, 10), wd(3), (), sh(2025, 10, 11, 10)),
    # National Day 2026: Sun 09-20 workday, Fri 09-25 Mid-autumn, 10-01..10-07 off, Sat 10-10 workday.
    ("nd26-saturday-to-makeup-sunday", sh(2026, 9, 19, 10), wd(1), (), sh(2026, 9, 20, 18)),
    ("nd26-mid-autumn-friday-off", sh(2026, 9, 24, 10), wd(1), (), sh(2026, 9, 28, 10)),
    ("nd26-before-holiday", sh(2026, 9, 30, 10), wd(1), (), sh(2026, 10, 8, 10)),
    ("nd26-friday-to-makeup-saturday", sh(2026, 10, 9, 10), wd(1), (), sh(2026, 10, 10, 10)),
    # work hours
    ("wh-across-weekend", sh(2026, 3, 6, 16), wh(4), (), sh(2026, 3, 9, 11)),
    ("wh-before-office", sh(2026, 3, 9, 8), wh(2), (), sh(2026, 3, 9, 11)),
    ("wh-overnight", sh(2026, 3, 9, 17, 30), wh(1), (), sh(2026, 3, 10, 9, 30)),
    ("wh-ends-at-office-end", sh(2026, 3, 9, 10), wh(8), (), sh(2026, 3, 9, 18)),
    ("wh-half-hour", sh(2026, 3, 9, 10), wh(0.5), (), sh(2026, 3, 9, 10, 30)),
    # clock hours and natural days ignore the calendar
    ("ch-across-midnight", sh(2026, 3, 9, 23), ch(2), (), sh(2026, 3, 10, 1)),
    ("ch-half-hour-saturday-night", sh(2026, 3, 7, 22, 30), ch(0.5), (), sh(2026, 3, 7, 23)),
    ("ch-24-in-holiday", sh(2026, 2, 17, 15), ch(24), (), sh(2026, 2, 18, 15)),
    ("nd-7", sh(2026, 3, 9, 10), nd(7), (), sh(2026, 3, 16, 10)),
    ("nd-3-into-holiday", sh(2026, 9, 30, 10), nd(3), (), sh(2026, 10, 3, 10)),
    # pauses
    (
        "ch-pause-inside",
        sh(2026, 3, 9, 10),
        ch(4),
        [(sh(2026, 3, 9, 11), sh(2026, 3, 9, 12))],
        sh(2026, 3, 9, 15),
    ),
    (
        "ch-pause-inside-extended-window",
        sh(2026, 3, 9, 10),
        ch(2),
        [(sh(2026, 3, 9, 11), sh(2026, 3, 9, 11, 30)), (sh(2026, 3, 9, 12, 15), sh(2026, 3, 9, 12, 45))],
        sh(2026, 3, 9, 13),
    ),
    (
        "ch-pause-before-start",
        sh(2026, 3, 9, 10),
        ch(1),
        [(sh(2026, 3, 9, 8), sh(2026, 3, 9, 10, 30))],
        sh(2026, 3, 9, 11, 30),
    ),
    (
        "ch-overlapping-pauses-merged",
        sh(2026, 3, 9, 10),
        ch(2),
        [(sh(2026, 3, 9, 11, 30), sh(2026, 3, 9, 12, 30)), (sh(2026, 3, 9, 11), sh(2026, 3, 9, 12))],
        sh(2026, 3, 9, 13, 30),
    ),
    (
        "wd-pause-overnight",
        sh(2026, 3, 9, 10),
        wd(1),
        [(sh(2026, 3, 9, 14), sh(2026, 3, 10, 11))],
        sh(2026, 3, 10, 16),
    ),
    (
        "wd-pause-over-weekend-only",
        sh(2026, 3, 6, 10),
        wd(1),
        [(sh(2026, 3, 6, 18, 30), sh(2026, 3, 9, 8))],
        sh(2026, 3, 9, 10),
    ),
    ("wh-pause", sh(2026, 3, 9, 10), wh(3), [(sh(2026, 3, 9, 11), sh(2026, 3, 9, 12))], sh(2026, 3, 9, 14)),
    ("nd-pause", sh(2026, 3, 9, 10), nd(1), [(sh(2026, 3, 9, 12), sh(2026, 3, 10, 0))], sh(2026, 3, 10, 22)),
    (
        "wd-pause-after-deadline-ignored",
        sh(2026, 3, 9, 10),
        wd(1),
        [(sh(2026, 3, 11, 9), sh(2026, 3, 11, 12))],
        sh(2026, 3, 10, 10),
    ),
    # other time zones in, Shanghai out
    ("utc-start-clock", datetime(2026, 3, 9, 15, 30, tzinfo=UTC), ch(1), (), sh(2026, 3, 10, 0, 30)),
    ("utc-start-workdays", datetime(2026, 3, 9, 2, tzinfo=UTC), wd(1), (), sh(2026, 3, 10, 10)),
]


@pytest.mark.parametrize(
    ("start", "limit", "pauses", "expected"),
    [r[1:] for r in DEADLINE_ROWS],
    ids=[r[0] for r in DEADLINE_ROWS],
)
def test_deadline_table(start, limit, pauses, expected):
    got = sla.deadline(start, limit, WorkCalendar(), pauses)
    assert got == expected
    assert got.tzinfo == SH and got.utcoffset() == timedelta(hours=8)


def test_open_pause_ends_at_now():
    pauses = [(sh(2026, 3, 9, 11), None)]
    assert sla.deadline(sh(2026, 3, 9, 10), ch(2), WorkCalendar(), pauses, now=sh(2026, 3, 9, 13)) == sh(2026, 3, 9, 14)
    with pytest.raises(ValueError, match="open pause"):
        sla.deadline(sh(2026, 3, 9, 10), ch(2), WorkCalendar(), pauses)


def test_naive_datetime_rejected():
    with pytest.raises(ValueError, match="naive"):
        sla.deadline(datetime(2026, 3, 9, 10), wd(1), WorkCalendar())


# --- overrides, missing years ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "start", "limit", "expected"),
    [
        ({date(2026, 3, 9): False}, sh(2026, 3, 6, 20), wd(1), sh(2026, 3, 10, 18)),  # Monday made a day off
        ({date(2026, 3, 7): True}, sh(2026, 3, 6, 20), wd(1), sh(2026, 3, 7, 18)),  # Saturday made a workday
        ({date(2026, 2, 16): True}, sh(2026, 2, 14, 10), wd(1), sh(2026, 2, 16, 10)),  # wins over a holiday
    ],
    ids=["monday-off", "saturday-on", "holiday-on"],
)
def test_override_wins_over_library(overrides, start, limit, expected):
    assert sla.deadline(start, limit, WorkCalendar(overrides), ()) == expected


def test_2027_start_falls_back_to_weekdays_with_warning():
    cal = WorkCalendar()
    with pytest.warns(sla.CalendarDataWarning, match="2027年节假日数据缺失"):
        got = sla.deadline(sh(2027, 3, 5, 20), wd(1), cal)  # Friday evening
    assert got == sh(2027, 3, 8, 18)  # Monday
    assert cal.warnings == {"2027年节假日数据缺失，按周一至周五计算，请在节假日表中维护"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per year per calendar
        assert sla.deadline(sh(2027, 3, 12, 20), wd(1), cal) == sh(2027, 3, 15, 18)
        assert cal.is_workday(date(2027, 6, 1)) is True
        assert cal.is_workday(date(2027, 6, 5)) is False


@pytest.mark.parametrize(
    ("overrides", "start", "limit", "expected"),
    [
        ({}, sh(2026, 12, 31, 10), wd(1), sh(2027, 1, 1, 10)),  # Fri 2027-01-01 assumed a workday
        ({date(2027, 1, 1): False}, sh(2026, 12, 31, 10), wd(1), sh(2027, 1, 4, 10)),
        ({}, sh(2026, 12, 28, 10), wd(7), sh(2027, 1, 6, 10)),
        ({date(2027, 1, 1): False}, sh(2026, 12, 28, 10), wd(7), sh(2027, 1, 7, 10)),
        ({}, sh(2026, 12, 31, 17), wh(2), sh(2027, 1, 1, 10)),
    ],
    ids=["new-year-fallback", "new-year-override", "reply-7-fallback", "reply-7-override", "hours"],
)
def test_crossing_into_2027(overrides, start, limit, expected):
    cal = WorkCalendar(overrides)
    with pytest.warns(sla.CalendarDataWarning):
        assert sla.deadline(start, limit, cal) == expected
    assert any(w.startswith("2027年") for w in cal.warnings)


def test_override_only_days_do_not_warn():
    cal = WorkCalendar({date(2027, 1, 1): False, date(2027, 1, 2): True})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sla.deadline(sh(2026, 12, 31, 10), wd(1), cal) == sh(2027, 1, 2, 10)
    assert cal.warnings == set()


def test_calendar_memoizes(monkeypatch):
    cal = WorkCalendar()
    assert cal.is_workday(date(2026, 2, 14)) is True
    monkeypatch.setattr(sla.chinese_calendar, "is_workday", lambda d: pytest.fail("not memoized"))
    assert cal.is_workday(date(2026, 2, 14)) is True


def test_custom_office_hours():
    cal = WorkCalendar(office_start=time(8, 30), office_end=time(17))  # 8.5 h working day
    assert sla.deadline(sh(2026, 3, 6, 20), wd(1), cal) == sh(2026, 3, 9, 17)
    assert sla.deadline(sh(2026, 3, 9, 8, 30), wd(1), cal) == sh(2026, 3, 9, 17)
    assert sla.deadline(sh(2026, 3, 9, 16), wh(2), cal) == sh(2026, 3, 10, 9, 30)


def test_calendar_rejects_inverted_office_hours():
    with pytest.raises(ValueError, match="office_start"):
        WorkCalendar(office_start=time(18), office_end=time(9))


# --- helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "minutes"),
    [
        (sh(2026, 3, 6, 17), sh(2026, 3, 9, 10), 120),  # Fri 17-18 + Mon 9-10
        (sh(2026, 3, 9, 8), sh(2026, 3, 9, 20), 540),
        (sh(2026, 3, 9, 12), sh(2026, 3, 9, 11), 0),
        (sh(2026, 2, 13, 10), sh(2026, 2, 24, 10), 480 + 540 + 60),  # Fri + make-up Sat + Tue
        (sh(2026, 3, 7, 0), sh(2026, 3, 8, 23, 59), 0),  # weekend
    ],
)
def test_work_minutes_between(a, b, minutes):
    assert sla.work_minutes_between(a, b, WorkCalendar()) == minutes


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (sh(2026, 3, 9, 17, 30), 60, sh(2026, 3, 10, 9, 30)),
        (sh(2026, 3, 6, 17), 540, sh(2026, 3, 9, 17)),
        (sh(2026, 3, 9, 10), 0, sh(2026, 3, 9, 10)),
    ],
)
def test_add_work_minutes(start, minutes, expected):
    assert sla.add_work_minutes(start, minutes, WorkCalendar()) == expected

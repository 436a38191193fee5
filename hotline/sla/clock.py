"""Deadline math for case time limits (限时办结) — pure: stdlib + ``chinese_calendar`` only.

Every public function takes and returns timezone-aware datetimes (any tz in, the
calendar's tz — Asia/Shanghai by default — out). Nothing reads the clock: ``now`` is
always passed in.

Units of a :class:`Limit`
-------------------------
``clock_hours``   wall clock, 7x24 (emergency / urgent limits): ``start + hours``.
``natural_days``  ``start + N * 24 h``.
``work_hours``    only office time (``office_start``..``office_end``, default
                  09:00-18:00) on working days counts.
``work_days``     N working days = N x the office-day length (9 h) of office time.
                  A start inside office hours is due at the same local time of day
                  N working days later (Mon 10:00 + 1 -> Tue 10:00). A start before
                  office hours counts from that day's office start; a start at or
                  after office end, or on a day off, counts from the next working
                  day's office start. A deadline that lands exactly on an office
                  boundary is reported as the *end* of the last working day used,
                  never the next morning: dispatched Friday 20:00, "within 1 working
                  day" is due Monday 18:00 (the same working time as Tuesday 09:00,
                  but it is what a citizen reads, and ``elapsed_fraction`` reaches
                  1.0 exactly at the reported deadline, so the red card and the
                  deadline agree).

Working days come from the admin holiday table (``overrides``) first, then
``chinese_calendar`` (holidays and make-up 调休 workdays: a working Saturday
counts). For a year the library does not know (2027+) the calendar falls back to
Monday-Friday, records a Chinese message in ``WorkCalendar.warnings`` and emits one
:class:`CalendarDataWarning` per year; it never raises.

Pauses
------
``pauses`` are ``(begin, end)`` intervals while the case waits for the citizen;
``end=None`` means still paused and ends at ``now``. Overlapping pauses are merged
and clipped to the start. Time inside a pause does not count, measured in the
limit's own unit (wall-clock time for clock units, office time for working units),
so a pause that falls inside the already extended window also extends it.

Cards: yellow when ``elapsed_fraction >= YELLOW_AT`` (80 %), red at ``>= 1.0``.

Policy keys are ``(milestone, tier)``, ``(milestone, kind)`` and ``(milestone, "category:PATH")``; for the
normal tier the longest matching category prefix wins over the kind, the kind over the tier.
"""

from __future__ import annotations

import math
import warnings as _warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

UNITS = ("clock_hours", "work_hours", "work_days", "natural_days")
CLOCK_UNITS = frozenset({"clock_hours", "natural_days"})
MILESTONES = ("sign", "contact", "reply")
TIERS = ("emergency", "urgent", "normal", "complex")
YELLOW_AT = 0.8
CATEGORY_PREFIX = "category:"

_DAY = timedelta(days=1)
Pause = tuple[datetime, datetime | None]
Policy = Mapping[tuple[str, str], "Limit"]


class CalendarDataWarning(UserWarning):
    """The official holiday data is missing for a year; Mon-Fri is assumed."""


@dataclass(frozen=True)
class Limit:
    amount: float
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown limit unit {self.unit!r}; expected one of {', '.join(UNITS)}")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int | float):
            raise ValueError(f"limit amount must be a number, got {self.amount!r}")
        if not math.isfinite(self.amount) or self.amount <= 0:
            raise ValueError(f"limit amount must be a finite number > 0, got {self.amount!r}")


class WorkCalendar:
    """Working days and office hours in local time; memoizes ``is_workday`` per date."""

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        office_start: time = time(9, 0),
        office_end: time = time(18, 0),
        tz: str = "Asia/Shanghai",
    ) -> None:
        if office_start >= office_end:
            raise ValueError(f"office_start {office_start} must be before office_end {office_end}")
        self.overrides: dict[date, bool] = dict(overrides or {})
        self.office_start = office_start
        self.office_end = office_end
        self.tz = ZoneInfo(tz)
        self.warnings: set[str] = set()
        self._cache: dict[date, bool] = {}
        day = date(2000, 1, 1)
        self.office_seconds = (datetime.combine(day, office_end) - datetime.combine(day, office_start)).total_seconds()

    def is_workday(self, d: date) -> bool:
        cached = self._cache.get(d)
        if cached is not None:
            return cached
        if d in self.overrides:
            result = bool(self.overrides[d])
        else:
            try:
                result = chinese_calendar.is_workday(d)
            except NotImplementedError:
                result = d.weekday() < 5
                self._missing_year(d.year)
        self._cache[d] = result
        return result

    def _missing_year(self, year: int) -> None:
        message = f"{year}年节假日数据缺失，按周一至周五计算，请在节假日表中维护"
        if message not in self.warnings:
            self.warnings.add(message)
            _warnings.warn(message, CalendarDataWarning, stacklevel=3)


# --- working-time primitives, on naive local datetimes --------------------------------------


def _aware(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt!r}: pass a timezone-aware datetime")
    return dt


def _local(dt: datetime, cal: WorkCalendar) -> datetime:
    return _aware(dt).astimezone(cal.tz).replace(tzinfo=None)


def _day_overlap(cal: WorkCalendar, day: date, lo: datetime, hi: datetime) -> float:
    if not cal.is_workday(day):
        return 0.0
    start = max(lo, datetime.combine(day, cal.office_start))
    return max(0.0, (min(hi, datetime.combine(day, cal.office_end)) - start).total_seconds())


def _work_seconds(cal: WorkCalendar, a: datetime, b: datetime) -> float:
    first, last = a.date(), b.date()
    if first == last:
        return _day_overlap(cal, first, a, b)
    total = _day_overlap(cal, first, a, datetime.max) + _day_overlap(cal, last, datetime.min, b)
    day = first + _DAY
    while day < last:  # whole days in between: no datetime arithmetic
        if cal.is_workday(day):
            total += cal.office_seconds
        day += _DAY
    return total


def _add_work(cal: WorkCalendar, t: datetime, seconds: float) -> datetime:
    day = t.date()
    if cal.is_workday(day):
        cur = max(t, datetime.combine(day, cal.office_start))
        available = (datetime.combine(day, cal.office_end) - cur).total_seconds()
        if available > 0:
            if seconds <= available:
                return cur + timedelta(seconds=seconds)
            seconds -= available
    while True:  # then whole working days
        day += _DAY
        if cal.is_workday(day):
            if seconds <= cal.office_seconds:
                return datetime.combine(day, cal.office_start) + timedelta(seconds=seconds)
            seconds -= cal.office_seconds


def add_work_minutes(start: datetime, minutes: float, cal: WorkCalendar) -> datetime:
    """``start`` plus ``minutes`` of office time (see the module docstring for boundaries)."""
    if minutes < 0:
        raise ValueError("minutes must be >= 0")
    return _add_work(cal, _local(start, cal), minutes * 60).replace(tzinfo=cal.tz)


def work_minutes_between(a: datetime, b: datetime, cal: WorkCalendar) -> float:
    """Office minutes on working days between two instants (0 if ``b <= a``)."""
    la, lb = _local(a, cal), _local(b, cal)
    return _work_seconds(cal, la, lb) / 60 if lb > la else 0.0


# --- one timeline abstraction for both clock and working time --------------------------------


class _Line:
    """Conversions plus measure/advance for a limit's unit."""

    def __init__(self, unit: str, cal: WorkCalendar) -> None:
        self.cal = cal
        self.clock = unit in CLOCK_UNITS

    def to(self, dt: datetime) -> datetime:
        return _aware(dt).astimezone(UTC) if self.clock else _local(dt, self.cal)

    def out(self, x: datetime) -> datetime:
        return x.astimezone(self.cal.tz) if self.clock else x.replace(tzinfo=self.cal.tz)

    def measure(self, a: datetime, b: datetime) -> float:
        if b <= a:
            return 0.0
        return (b - a).total_seconds() if self.clock else _work_seconds(self.cal, a, b)

    def advance(self, t: datetime, seconds: float) -> datetime:
        return t + timedelta(seconds=seconds) if self.clock else _add_work(self.cal, t, seconds)

    def pauses(self, start: datetime, pauses: Sequence[Pause], now: datetime | None) -> list:
        spans = []
        for begin, end in pauses:
            if end is None:
                if now is None:
                    raise ValueError("an open pause (end=None) needs now=")
                end = now
            b, e = max(self.to(begin), start), self.to(end)
            if e > b:
                spans.append((b, e))
        merged: list[tuple[datetime, datetime]] = []
        for b, e in sorted(spans):
            if merged and b <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((b, e))
        return merged

    def counted(self, start: datetime, end: datetime, spans: list) -> float:
        total = self.measure(start, end)
        for b, e in spans:
            if b >= end:
                break
            total -= self.measure(b, min(e, end))
        return total


def _budget_seconds(limit: Limit, cal: WorkCalendar) -> float:
    per_unit = {"clock_hours": 3600, "work_hours": 3600, "natural_days": 86400}
    return limit.amount * per_unit.get(limit.unit, cal.office_seconds)


def deadline(
    start: datetime,
    limit: Limit,
    cal: WorkCalendar,
    pauses: Sequence[Pause] = (),
    *,
    now: datetime | None = None,
) -> datetime:
    """When ``limit`` runs out for a case started at ``start``; ``now`` ends open pauses."""
    line = _Line(limit.unit, cal)
    t = line.to(start)
    remaining = _budget_seconds(limit, cal)
    for b, e in line.pauses(t, pauses, now):
        available = line.measure(t, b)
        if remaining <= available:
            break
        remaining -= available
        t = max(t, e)
    return line.out(line.advance(t, remaining))


def elapsed_fraction(
    start: datetime,
    due: datetime,
    now: datetime,
    limit: Limit,
    cal: WorkCalendar,
    pauses: Sequence[Pause] = (),
) -> float:
    """Share of the limit used at ``now`` (0 .. >1), in the limit's unit, pauses excluded.

    The denominator is the counted time from ``start`` to ``due`` (so an extended
    ``due`` is honoured); pass the ``due`` computed with the same pauses and ``now``.
    """
    line = _Line(limit.unit, cal)
    t0, t_due, t_now = line.to(start), line.to(due), line.to(now)
    spans = line.pauses(t0, pauses, now)
    total = line.counted(t0, t_due, spans)
    if total <= 0:
        return 1.0 if t_now >= t_due else 0.0
    return max(0.0, line.counted(t0, t_now, spans)) / total


def card_level(fraction: float) -> str | None:
    if fraction >= 1.0:
        return "red"
    if fraction >= YELLOW_AT:
        return "yellow"
    return None


# --- default policy (docs/domain.md "Time limits") ------------------------------------------------

DEFAULT_POLICY: dict[tuple[str, str], Limit] = {
    ("sign", "emergency"): Limit(0.5, "clock_hours"),
    ("sign", "urgent"): Limit(2, "clock_hours"),
    ("sign", "normal"): Limit(1, "work_days"),
    ("sign", "complex"): Limit(1, "work_days"),
    ("contact", "emergency"): Limit(2, "clock_hours"),
    ("contact", "urgent"): Limit(4, "clock_hours"),
    ("contact", "normal"): Limit(1, "work_days"),
    ("contact", "complex"): Limit(2, "work_days"),
    ("reply", "emergency"): Limit(24, "clock_hours"),
    ("reply", "urgent"): Limit(24, "clock_hours"),
    ("reply", "normal"): Limit(7, "work_days"),
    ("reply", "complex"): Limit(15, "work_days"),
}
# Reply limits by case kind, normal tier only (a complex or urgent consult keeps its tier's limit).
KIND_REPLY_OVERRIDES: dict[str, Limit] = {
    "consult": Limit(3, "work_days"),
    "suggestion": Limit(15, "work_days"),
}


def tier_for(urgency: str, complex: bool = False) -> str:
    if urgency in ("emergency", "urgent"):
        return urgency
    return "complex" if complex else "normal"


def category_keys(category: str | None) -> list[str]:
    """Policy keys for a category path, most specific first: "a/b/c" -> category:a/b/c, category:a/b, category:a."""
    parts = [p for p in (category or "").split("/") if p]
    return [CATEGORY_PREFIX + "/".join(parts[:n]) for n in range(len(parts), 0, -1)]


def limit_for(
    milestone: str,
    urgency: str,
    kind: str,
    complex: bool = False,
    policy: Policy | None = None,
    category: str | None = None,
) -> Limit:
    """The limit for one milestone. For the normal tier a ``(milestone, "category:PATH")`` key wins
    (the longest matching prefix of the case's category path), then a ``(milestone, kind)`` key
    (``KIND_REPLY_OVERRIDES`` seeds ``("reply", kind)``); ``policy`` overrides any default."""
    if milestone not in MILESTONES:
        raise ValueError(f"unknown milestone {milestone!r}; expected one of {', '.join(MILESTONES)}")
    table: dict[tuple[str, str], Limit] = dict(DEFAULT_POLICY)
    table.update({("reply", k): v for k, v in KIND_REPLY_OVERRIDES.items()})
    table.update(policy or {})
    tier = tier_for(urgency, complex)
    if tier == "normal":
        for key in category_keys(category):
            if (milestone, key) in table:
                return table[(milestone, key)]
    if tier == "normal" and kind not in TIERS and (milestone, kind) in table:
        return table[(milestone, kind)]
    try:
        return table[(milestone, tier)]
    except KeyError:
        raise ValueError(f"no time limit configured for ({milestone!r}, {tier!r})") from None


def deadlines_for(
    start: datetime,
    urgency: str,
    kind: str,
    cal: WorkCalendar,
    complex: bool = False,
    policy: Policy | None = None,
    *,
    pauses: Sequence[Pause] = (),
    now: datetime | None = None,
    category: str | None = None,
) -> dict[str, datetime]:
    """Deadlines of the three milestones, all counted from ``start``."""
    return {
        m: deadline(start, limit_for(m, urgency, kind, complex, policy, category), cal, pauses, now=now)
        for m in MILESTONES
    }

"""Periods of the figures: local days (the centre's timezone) and their UTC instants; the previous period and the
same period last year (pure: no database, no Flask)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    first: date  # local days, both included
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]

    def previous(self) -> Period:
        """The period of the same length just before."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def last_year(self) -> Period:
        """The same dates a year earlier (29 February → 28 February)."""
        return Period(_year_before(self.first), _year_before(self.last))


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local day begins."""
    return datetime.combine(day, time.min, zone).astimezone(UTC)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return day_start(day, zone), day_start(day + timedelta(days=1), zone)


def hour_bounds(day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The 24 local hours of ``day`` as UTC half-open ranges (a DST day's repeated/missing hour merges away)."""
    out = []
    for hour in range(24):
        start = datetime.combine(day, time(hour), zone).astimezone(UTC)
        end = (
            datetime.combine(day, time(hour + 1), zone).astimezone(UTC)
            if hour < 23
            else day_start(day + timedelta(days=1), zone)
        )
        out.append((start, end))
    return out


def runs(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days → contiguous (first, last) runs."""
    out: list[tuple[date, date]] = []
    for day in sorted(days):
        if out and out[-1][1] + timedelta(days=1) == day:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out

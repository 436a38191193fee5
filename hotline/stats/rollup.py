"""The daily rollup (tables of hotline/models/rollup.py): write one local day's figures, read a period's.

``roll_day`` replaces the day's rows in one transaction (delete + insert), so running it twice — or again after a
correction — leaves the same rows: the job is idempotent and re-runnable for a date range (``flask stats rollup``).
Assignment-based counts (responded, replied on time) and ratings keep changing after the day as cases progress:
the nightly job re-rolls the trailing ``TRAILING_DAYS`` (workers/jobs/stats.py).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import StatsDaily, StatsRollupDay, StatsUnitDaily
from hotline.stats.metrics import UnitCounts
from hotline.stats.periods import day_bounds
from hotline.stats.queries import unit_counts
from hotline.stats.volumes import DIMS, Volumes, day_volumes, empty

TRAILING_DAYS = 35  # a case's reply and rating usually land within a month of its dispatch
COUNT_FIELDS = (
    "dispatched",
    "responded",
    "replied_on_time",
    "returns",
    "improper_returns",
    "extensions",
    "reopened",
    "yellow_cards",
    "red_cards",
    "resolved_yes",
    "resolved_answered",
)


def roll_day(day: date, zone: ZoneInfo, now: datetime | None = None) -> int:
    """Recompute ``day``'s rollup rows (flush, no commit); returns the day's case count."""
    volumes = day_volumes(day, zone)
    start, end = day_bounds(day, zone)
    units = unit_counts(start, end, None)
    for model in (StatsDaily, StatsUnitDaily, StatsRollupDay):
        db.session.execute(sa.delete(model).where(model.day == day))
    rows = [{"day": day, "dim": dim, "key": key, "n": n} for dim in DIMS for key, n in volumes[dim].items() if n]
    if rows:
        db.session.execute(sa.insert(StatsDaily), rows)
    unit_rows = [_unit_row(day, unit_id, c) for unit_id, c in units.items()]
    if unit_rows:
        db.session.execute(sa.insert(StatsUnitDaily), unit_rows)
    total = volumes["total"][""]
    db.session.execute(
        sa.insert(StatsRollupDay), [{"day": day, "cases": total, "computed_at": now or datetime.now(UTC)}]
    )
    db.session.flush()
    return total


def _unit_row(day: date, unit_id: int, c: UnitCounts) -> dict:
    row = {"day": day, "department_id": unit_id, **{name: getattr(c, name) for name in COUNT_FIELDS}}
    row.update({f"score{s}": c.scores.get(s, 0) for s in range(1, 6)})
    return row


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# --- reading ---------------------------------------------------------------------------------------------------


def rolled_days(first: date, last: date) -> set[date]:
    return set(
        db.session.scalars(sa.select(StatsRollupDay.day).where(StatsRollupDay.day >= first, StatsRollupDay.day <= last))
    )


def volumes(first: date, last: date, dims: tuple[str, ...] = DIMS) -> Volumes:
    """The rolled-up counts of the days in [first, last], summed per dimension and key."""
    d = StatsDaily
    rows = db.session.execute(
        sa.select(d.dim, d.key, sa.func.sum(d.n))
        .where(d.day >= first, d.day <= last, d.dim.in_(dims))
        .group_by(d.dim, d.key)
    )
    out = empty()
    for dim, key, n in rows:
        out[dim][key] += int(n)
    return out


def daily_totals(first: date, last: date) -> Counter:
    d = StatsDaily
    rows = db.session.execute(sa.select(d.day, d.n).where(d.day >= first, d.day <= last, d.dim == "total"))
    return Counter(dict(rows.all()))


def unit_totals(first: date, last: date, units: list[int] | None) -> dict[int, UnitCounts]:
    """The rolled-up assessment counts per unit over the days in [first, last]."""
    u = StatsUnitDaily
    fields = [*COUNT_FIELDS, *(f"score{s}" for s in range(1, 6))]
    query = (
        sa.select(u.department_id, *(sa.func.sum(getattr(u, name)) for name in fields))
        .where(u.day >= first, u.day <= last)
        .group_by(u.department_id)
    )
    if units is not None:
        query = query.where(u.department_id.in_(units))
    out = {}
    for unit_id, *sums in db.session.execute(query):
        values = dict(zip(fields, (int(v or 0) for v in sums), strict=True))
        scores = {s: values.pop(f"score{s}") for s in range(1, 6)}
        out[unit_id] = UnitCounts(**values, scores={s: n for s, n in scores.items() if n})
    return out


def due_days(today: date, now: datetime, stale_after: timedelta = timedelta(hours=20)) -> list[date]:
    """Days of the trailing window (before today) never rolled, or rolled more than ``stale_after`` ago."""
    first = today - timedelta(days=TRAILING_DAYS)
    fresh = set(
        db.session.scalars(
            sa.select(StatsRollupDay.day).where(
                StatsRollupDay.day >= first, StatsRollupDay.computed_at > now - stale_after
            )
        )
    )
    return [d for d in days_between(first, today - timedelta(days=1)) if d not in fresh]

"""Case volumes counted live from the cases table: by channel, kind, category (leaf id), area (the case's district
or street unit id), hour of day and day — one grouped statement per dimension set, set-based on both dialects.

A case counts on the local day it was registered (``created_at``). ``units`` (ids) limits the count to cases a
unit's subtree leads (a department user's figures); None counts every case.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Case
from hotline.stats.periods import hour_bounds

GROUPED = ("channel", "kind", "category", "area")
DIMS = ("total", *GROUPED, "hour")

Volumes = dict[str, Counter]  # dim -> key -> count (keys are strings: ids, codes, "00".."23"; "" for none)


def empty() -> Volumes:
    return {dim: Counter() for dim in DIMS}


def add(into: Volumes, more: Volumes) -> Volumes:
    for dim, counts in more.items():
        into.setdefault(dim, Counter()).update(counts)
    return into


def _scoped(query, units: list[int] | None):
    return query.where(Case.lead_department_id.in_(units)) if units is not None else query


def _bucket(created, bounds: list[tuple[datetime, datetime]], low: int, high: int):
    """The local hour of ``created`` as a balanced CASE tree over the hour bounds (log2 24 ≈ 5 comparisons a row,
    the same SQL on both dialects)."""
    if low == high:
        return sa.literal(low)
    mid = (low + high + 1) // 2
    return sa.case(
        (created < bounds[mid][0], _bucket(created, bounds, low, mid - 1)), else_=_bucket(created, bounds, mid, high)
    )


def _statement(start: datetime, end: datetime, units: list[int] | None, bounds=None):
    """One statement: a grouped count per dimension (UNION ALL), each a range scan of ix_cases_created_at."""
    c = Case
    columns = {
        "channel": c.channel,
        "kind": c.kind,
        "category": sa.cast(c.category_id, sa.String),
        "area": sa.cast(c.district_id, sa.String),
    }
    if bounds is not None:
        columns["hour"] = sa.cast(_bucket(c.created_at, bounds, 0, 23), sa.String)
    parts = []
    for dim, column in columns.items():
        key = column.label("key")
        parts.append(
            _scoped(
                sa.select(sa.literal(dim).label("dim"), key, sa.func.count().label("n"))
                .where(c.created_at >= start, c.created_at < end)
                .group_by(key),
                units,
            )
        )
    return sa.union_all(*parts)


def _collect(rows) -> Volumes:
    out = empty()
    for dim, key, n in rows:
        if dim == "hour":
            key = f"{int(key):02d}"
        out[dim][key if key is not None else ""] += n
    out["total"][""] = sum(out["channel"].values())
    return out


def grouped(start: datetime, end: datetime, units: list[int] | None = None) -> Volumes:
    """Channel, kind, category and area counts of the cases registered in [start, end)."""
    return _collect(db.session.execute(_statement(start, end, units)))


def day_volumes(day: date, zone: ZoneInfo, units: list[int] | None = None, until: datetime | None = None) -> Volumes:
    """Every dimension of one local day (up to ``until`` for today), hours included: one statement."""
    bounds = hour_bounds(day, zone)
    end = min(bounds[-1][1], until) if until else bounds[-1][1]
    return _collect(db.session.execute(_statement(bounds[0][0], end, units, bounds)))

"""Readable, sortable case numbers: GD20261122-000123 (a per-day sequence, shared by all processes).

The database hands them out, never Redis, so a Redis that is down, or restored from an older snapshot, can
never hand out a number twice (hotline/models/counters.py):

- PostgreSQL: one ``nextval('case_number_seq')`` per registration, minus the day's base (``case_number_bases``,
  fixed by the day's first registration). Nothing stays locked until the commit: a counter row updated in the
  registering transaction would serialise every registration of the day from its number to its commit. A
  rolled-back registration leaves a gap, as any sequence does.
- SQLite: one ``case_counters`` row per (prefix, day), incremented in the registering transaction (SQLite
  serialises writers at ``BEGIN IMMEDIATE`` anyway), so numbers are gapless there.

A day that already has cases stored without its counter or base (an upgraded database, cases written by hand)
continues after its highest number.
"""

from __future__ import annotations

import threading
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from hotline.db.transactions import after_commit
from hotline.extensions import db
from hotline.models import Case, CaseCounter, CaseNumberBase
from hotline.models.counters import CASE_NUMBER_SEQUENCE

_lock = threading.Lock()
_bases: dict[tuple[str, str, str], tuple[int, int]] = {}  # (database url, prefix, day) -> (first, base), committed


@lru_cache(maxsize=4)
def _next_statement(dialect: str):
    """INSERT (prefix, day, 1) ON CONFLICT (prefix, day) DO UPDATE SET value = value + 1 RETURNING value."""
    table = CaseCounter.__table__
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(prefix=sa.bindparam("prefix"), day=sa.bindparam("day"), value=1)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.prefix, table.c.day], set_={"value": table.c.value + 1}
    ).returning(table.c.value)


def _highest(head: str) -> int:
    """The highest sequence number of the cases already stored under ``head`` (0 when none)."""
    highest = db.session.scalar(
        sa.select(Case.number).where(Case.number.like(head + "%")).order_by(Case.number.desc()).limit(1)
    )
    return int(highest[len(head) :]) if highest else 0


def _seeded(prefix: str, day: str, head: str) -> int:
    """SQLite: the day's first number, continuing after any case of that day already stored without a counter;
    the row was just inserted by this transaction, which holds it."""
    highest = _highest(head)
    if not highest:
        return 1
    table = CaseCounter.__table__
    return db.session.execute(
        sa.update(table)
        .where(table.c.prefix == prefix, table.c.day == day)
        .values(value=highest + 1)
        .returning(table.c.value)
    ).scalar_one()


def _base(prefix: str, day: str, head: str, value: int) -> tuple[int, int]:
    """PostgreSQL: the day's (first, base), fixed by the first registration that gets here; ``value`` (this
    registration's sequence value) becomes the day's first if no base is stored yet. Cached once committed."""
    key = (current_app.config["HOTLINE"].database_url, prefix, day)
    with _lock:
        hit = _bases.get(key)
    if hit is not None:
        return hit
    table = CaseNumberBase.__table__
    db.session.execute(
        postgresql.insert(table)
        .values(prefix=prefix, day=day, first=value, base=value - 1 - _highest(head))
        .on_conflict_do_nothing(index_elements=[table.c.prefix, table.c.day])
    )  # a concurrent first registration of the day makes this wait for its commit, then do nothing
    first, base = db.session.execute(
        sa.select(table.c.first, table.c.base).where(table.c.prefix == prefix, table.c.day == day)
    ).one()
    after_commit(_remember, key, (first, base))  # never cache a base a rollback may still take away
    return first, base


def _remember(key: tuple[str, str, str], value: tuple[int, int]) -> None:
    with _lock:
        _bases[key] = value


def next_number(now: datetime, prefix: str = "GD") -> str:
    """The next number of ``now``'s day (in the hotline's timezone), in the current transaction."""
    day = now.astimezone(ZoneInfo(current_app.config["HOTLINE"].timezone)).strftime("%Y%m%d")
    head = f"{prefix}{day}-"
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        while True:
            value = db.session.execute(sa.select(CASE_NUMBER_SEQUENCE.next_value())).scalar_one()
            first, base = _base(prefix, day, head, value)
            if value >= first:  # a value taken before the day's first (a race at midnight) is not the day's
                return f"{head}{value - base:06d}"
    seq = db.session.execute(_next_statement(dialect), {"prefix": prefix, "day": day}).scalar_one()
    if seq == 1:  # the day's first number (one row per day): check for cases stored without the counter
        seq = _seeded(prefix, day, head)
    return f"{head}{seq:06d}"

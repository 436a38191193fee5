"""Where case numbers come from (``hotline/cases/numbers.py``): the database, never Redis.

- SQLite: ``case_counters``, one row per (prefix, day) incremented in the registering transaction (SQLite
  serialises writers anyway, so the row costs no concurrency), gapless.
- PostgreSQL: the sequence ``case_number_seq`` and ``case_number_bases``, one row per (prefix, day) fixing the
  sequence value of the day's first number: number = value − base. No row stays locked until the commit, so
  registrations run in parallel; a rolled-back registration leaves a gap (as sequences do).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db


class CaseCounter(db.Model):
    __tablename__ = "case_counters"

    prefix: so.Mapped[str] = so.mapped_column(sa.String(8), primary_key=True)  # "GD"
    day: so.Mapped[str] = so.mapped_column(sa.String(8), primary_key=True)  # YYYYMMDD in the hotline's timezone
    value: so.Mapped[int] = so.mapped_column(sa.Integer)  # the last number handed out that day


CASE_NUMBER_SEQUENCE = sa.Sequence("case_number_seq", metadata=db.Model.metadata)


class CaseNumberBase(db.Model):
    """PostgreSQL: the day's numbers are ``nextval('case_number_seq') - base`` for values from ``first`` on."""

    __tablename__ = "case_number_bases"

    prefix: so.Mapped[str] = so.mapped_column(sa.String(8), primary_key=True)
    day: so.Mapped[str] = so.mapped_column(sa.String(8), primary_key=True)
    first: so.Mapped[int] = so.mapped_column(sa.BigInteger)  # the sequence value of the day's first number
    base: so.Mapped[int] = so.mapped_column(sa.BigInteger)  # number = value - base (first - 1 - numbers before)

"""The daily rollup of the figures (统计分析): written by the stats rollup job (hotline/stats/rollup.py), read by
the figures of past days; today's figures are counted live."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow


class StatsDaily(db.Model):
    """Cases registered on ``day`` (local date) counted by one dimension: ``dim`` is ``total``, ``channel``,
    ``kind``, ``category`` (the case's category id, "" for none), ``area`` (the case's district/street unit id,
    "" for none) or ``hour`` (local hour "00".."23"); ``key`` its value, ``n`` the count."""

    __tablename__ = "stats_daily"

    day: so.Mapped[date] = so.mapped_column(sa.Date, primary_key=True)
    dim: so.Mapped[str] = so.mapped_column(sa.String(16), primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    n: so.Mapped[int] = so.mapped_column(sa.Integer)


class StatsUnitDaily(db.Model):
    """The counts behind the assessment rates (hotline/stats/metrics.py ``UnitCounts``) of one unit on ``day``."""

    __tablename__ = "stats_unit_daily"

    day: so.Mapped[date] = so.mapped_column(sa.Date, primary_key=True)
    department_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("departments.id"), primary_key=True)
    dispatched: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    responded: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    replied_on_time: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    returns: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    improper_returns: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    extensions: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    reopened: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    yellow_cards: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    red_cards: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    score1: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    score2: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    score3: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    score4: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    score5: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    resolved_yes: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    resolved_answered: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)


class StatsRollupDay(db.Model):
    """A day the rollup holds: figures of a day without a row here are counted live."""

    __tablename__ = "stats_rollup_days"

    day: so.Mapped[date] = so.mapped_column(sa.Date, primary_key=True)
    cases: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    computed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

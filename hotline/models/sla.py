"""SLA policy (versioned) and the admin-maintained holiday table."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow


class SlaPolicy(db.Model):
    __tablename__ = "sla_policies"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    version: so.Mapped[int] = so.mapped_column(unique=True)
    # {"sign/normal": {"amount": 1, "unit": "work_days"}, ..., "reply_kind/consult": {...}}
    rules: so.Mapped[dict] = so.mapped_column(JSONType)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class Holiday(db.Model):
    """Overrides the official calendar: is_workday False = day off, True = make-up working day."""

    __tablename__ = "holidays"

    day: so.Mapped[date] = so.mapped_column(sa.Date, primary_key=True)
    is_workday: so.Mapped[bool] = so.mapped_column()
    note: so.Mapped[str] = so.mapped_column(sa.String(100), default="")

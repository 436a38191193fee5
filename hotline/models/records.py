"""一号一档 extras: records from other government systems, the citizen file's own timeline, the audit log."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow


class ExternalRecord(db.Model):
    """E.g. an online service-hall application filed with the same phone number."""

    __tablename__ = "external_records"
    __table_args__ = (sa.UniqueConstraint("source", "ref", name="uq_external_records_source_ref"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    citizen_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("citizens.id"), index=True)
    source: so.Mapped[str] = so.mapped_column(sa.String(64))
    ref: so.Mapped[str] = so.mapped_column(sa.String(128))
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    status: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    occurred_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    data: so.Mapped[dict] = so.mapped_column(JSONType, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class CitizenEvent(db.Model):
    """Changes to a citizen file itself (phones added, files merged, tags changed)."""

    __tablename__ = "citizen_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    citizen_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("citizens.id"), index=True)
    action: so.Mapped[str] = so.mapped_column(sa.String(32))
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    data: so.Mapped[dict] = so.mapped_column(JSONType, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class AuditLog(db.Model):
    """Every view of unmasked personal data (and other sensitive reads)."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_user_created", "user_id", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(32))
    citizen_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("citizens.id"), index=True)
    case_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cases.id"))
    detail: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    ip: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

"""The administration audit trail (等保): one append-only ``audit_events`` row per administrative action.

Written only by ``hotline.audit.record()``; the app has no update or delete path, and the database refuses both
(triggers created by the administration migration, on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_action_at", "action", "at"),
        sa.Index("ix_audit_events_target", "target_type", "target_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)  # None: system/CLI
    actor_name: so.Mapped[str] = so.mapped_column(sa.String(64), default="")  # username at the time
    actor_role: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    action: so.Mapped[str] = so.mapped_column(sa.String(64))  # e.g. "org.unit.update", "sla.policy.publish"
    target_type: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    target_id: so.Mapped[str] = so.mapped_column(sa.String(128), default="")
    before: so.Mapped[dict | list | None] = so.mapped_column(JSONType)
    after: so.Mapped[dict | list | None] = so.mapped_column(JSONType)
    detail: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    ip: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    user_agent: so.Mapped[str] = so.mapped_column(sa.String(255), default="")

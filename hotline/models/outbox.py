"""Side effects recorded in the same transaction as the change, delivered after commit by a job."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow


class OutboxMessage(db.Model):
    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_status_id", "status", "id"),
        # the rows a relay may claim (workers/jobs/outbox.py): a small partial index however many were sent
        sa.Index(
            "ix_outbox_open",
            "id",
            postgresql_where=sa.text("status IN ('pending', 'sending')"),
            sqlite_where=sa.text("status IN ('pending', 'sending')"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    channel: so.Mapped[str] = so.mapped_column(sa.String(16))  # inapp | sms | wechat
    # inapp: "user:ID" or "department:ID"; sms/wechat: encrypted address
    recipient: so.Mapped[str] = so.mapped_column(sa.Text)
    recipient_masked: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    case_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cases.id"), index=True)
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    payload: so.Mapped[dict] = so.mapped_column(JSONType, default=dict)
    # pending -> sending (claimed by a relay, under a lease) -> sent | pending again (back-off) | failed
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="pending")
    attempts: so.Mapped[int] = so.mapped_column(default=0)  # counted when claimed: a killed relay's try counts
    # no relay may claim the row before this instant: the lease of a `sending` row (an expired lease means its
    # relay died and the row is claimed again), the back-off of a `pending` row after a failed attempt
    lease_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # the claim's token (host:pid:nonce): only the relay holding the claim records the outcome
    claimed_by: so.Mapped[str] = so.mapped_column(sa.String(64), default="", server_default="")
    last_error: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)


class Notification(db.Model):
    """In-app notice for a user (delivered by the outbox relay)."""

    __tablename__ = "notifications"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    outbox_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("outbox.id"))
    case_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cases.id"))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    read_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    __table_args__ = (
        sa.Index("ix_notifications_user_read", "user_id", "read_at"),
        sa.UniqueConstraint("outbox_id", "user_id", name="uq_notifications_outbox_user"),
    )

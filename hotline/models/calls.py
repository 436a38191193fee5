"""Phone calls reported by the call platform (CTI)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow


class Call(db.Model):
    __tablename__ = "calls"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    call_id: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    citizen_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("citizens.id"), index=True)
    phone_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("citizen_phones.id"))
    agent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    callee: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="ringing")
    ringing_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    answered_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    duration_seconds: so.Mapped[int | None] = so.mapped_column()
    recording_url: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    # Every CTI event seen for this call ("ringing", "answered", ...), so duplicates are recognised.
    seen_events: so.Mapped[list] = so.mapped_column(JSONType, default=list)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

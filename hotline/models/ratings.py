"""好差评: rating invitations and ratings."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow


class RatingInvitation(db.Model):
    __tablename__ = "rating_invitations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), index=True)
    citizen_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("citizens.id"), index=True)
    channel: so.Mapped[str] = so.mapped_column(sa.String(16))
    nonce: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class Rating(db.Model):
    __tablename__ = "ratings"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), index=True)
    citizen_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("citizens.id"), index=True)
    invitation_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("rating_invitations.id"), unique=True)
    department_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"), index=True)
    score: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    resolved: so.Mapped[bool | None] = so.mapped_column()
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    channel: so.Mapped[str] = so.mapped_column(sa.String(16), default="web")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"score": self.score, "resolved": self.resolved, "comment": self.comment,
                "channel": self.channel, "created_at": self.created_at.isoformat()}

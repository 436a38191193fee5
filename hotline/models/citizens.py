"""一号一档: a citizen file keyed by normalised phone numbers (encrypted, found by blind index)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow


class Citizen(db.Model):
    __tablename__ = "citizens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name_enc: so.Mapped[str | None] = so.mapped_column(sa.Text)
    tags: so.Mapped[list] = so.mapped_column(JSONType, default=list)
    merged_into_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("citizens.id"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    phones: so.Mapped[list[CitizenPhone]] = so.relationship(back_populates="citizen")


class CitizenPhone(db.Model):
    __tablename__ = "citizen_phones"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    citizen_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("citizens.id"), index=True)
    phone_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    phone_enc: so.Mapped[str] = so.mapped_column(sa.Text)
    masked: so.Mapped[str] = so.mapped_column(sa.String(32))
    kind: so.Mapped[str] = so.mapped_column(sa.String(16), default="mobile")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    citizen: so.Mapped[Citizen] = so.relationship(back_populates="phones")

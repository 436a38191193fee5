"""Personal-data rights (个人信息保护法): which citizen files were erased, when, by whom and why.

An erased file keeps its row (cases, calls and ratings still point at it) but has lost its name, its numbers'
ciphertext and blind index, its WeChat identities and outside records (hotline/privacy/erase.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow


class CitizenErasure(db.Model):
    __tablename__ = "citizen_erasures"

    citizen_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("citizens.id"), primary_key=True)
    erased_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))  # None: the retention job
    reason: so.Mapped[str] = so.mapped_column(sa.String(16))  # request (the person asked) | retention
    cases: so.Mapped[int] = so.mapped_column(default=0)  # how many cases were anonymised with it

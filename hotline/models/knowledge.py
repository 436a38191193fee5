"""Knowledge base entries: service items (政务服务事项) and Q&A / policy articles."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow

KB_STATUSES = ("draft", "reviewed", "published", "retired")


class KbEntry(db.Model):
    __tablename__ = "kb_entries"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))  # service_item | article
    code: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    body: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    fields: so.Mapped[dict] = so.mapped_column(JSONType, default=dict)  # conditions, materials, fees ...
    department_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"))
    category_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("categories.id"))
    tags: so.Mapped[list] = so.mapped_column(JSONType, default=list)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="draft", index=True)
    valid_from: so.Mapped[date | None] = so.mapped_column(sa.Date)
    valid_to: so.Mapped[date | None] = so.mapped_column(sa.Date)
    usage_count: so.Mapped[int] = so.mapped_column(default=0)
    version: so.Mapped[int] = so.mapped_column(default=1)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

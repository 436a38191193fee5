"""Exports (导出): one row per requested file — what, with which filters, how far the job got, where the file is
(hotline/exports, workers/jobs/exports.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow

EXPORT_STATUSES = ("queued", "running", "done", "failed")


class Export(db.Model):
    __tablename__ = "exports"
    __table_args__ = (sa.Index("ix_exports_user_created", "user_id", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    what: so.Mapped[str] = so.mapped_column(sa.String(16))  # cases | ranking | hot | ratings | audit
    format: so.Mapped[str] = so.mapped_column(sa.String(8))  # xlsx | csv
    filters: so.Mapped[dict] = so.mapped_column(JSONType, default=dict)
    unmasked: so.Mapped[bool] = so.mapped_column(default=False)  # the requester may see personal data in full
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="queued")
    total: so.Mapped[int | None] = so.mapped_column()  # rows expected (counted before writing)
    rows: so.Mapped[int] = so.mapped_column(default=0)  # rows written so far
    file_name: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    size: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    error: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    started_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    @property
    def progress(self) -> float:
        if self.status == "done":
            return 1.0
        if not self.total:
            return 0.0
        return round(min(self.rows / self.total, 0.99), 4)

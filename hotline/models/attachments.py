"""Files kept as evidence on a case (issue 18): photos, video, audio, documents; the bytes live in the storage
backend (hotline/evidence/storage.py), the row holds what they are and who may see them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow

ATTACHMENT_KINDS = {"evidence": "现场证据", "reply": "答复材料", "rectification": "整改材料", "other": "其他"}
# where a file came from: staff upload or one of the citizens' channels
SOURCES = {"staff": "工作人员", "portal": "网站", "wechat": "微信", "open311": "Open311", "call": "通话录音"}
CITIZEN_SOURCES = ("portal", "wechat", "open311")
# the thumbnail job's progress: pending → done | failed; "none" for files without a picture (PDF, audio…)
THUMB_STATES = ("pending", "done", "failed", "none")


class Attachment(db.Model):
    __tablename__ = "attachments"
    __table_args__ = (
        # the same file on one case is stored once (hotline/evidence/service.py inserts ON CONFLICT DO NOTHING)
        sa.UniqueConstraint("case_id", "checksum", name="uq_attachments_case_checksum"),
        sa.Index(
            "ix_attachments_thumb_pending",
            "id",
            postgresql_where=sa.text("thumb_status = 'pending'"),
            sqlite_where=sa.text("thumb_status = 'pending'"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(16), default="evidence")
    source: so.Mapped[str] = so.mapped_column(sa.String(16), default="staff")
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    content_type: so.Mapped[str] = so.mapped_column(sa.String(100))
    size: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    checksum: so.Mapped[str] = so.mapped_column(sa.String(64))  # SHA-256 hex of the stored bytes
    storage_key: so.Mapped[str] = so.mapped_column(sa.String(200))
    width: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    height: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    thumb_key: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    thumb_status: so.Mapped[str] = so.mapped_column(sa.String(16), default="pending")
    # a citizen's file on a confidential case reaches the departments only once the centre shares it
    shared: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    uploaded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    department_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    @property
    def from_citizen(self) -> bool:
        return self.source in CITIZEN_SOURCES

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

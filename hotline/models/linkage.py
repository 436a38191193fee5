"""Links between a case and an outside system's record (issue 21): 110/119/120/122 and peer hotlines."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow


class CaseLink(db.Model):
    """``inbound``: the outside system sent us the case (``ref`` = its incident/case number, unique per source:
    the inbound endpoint is idempotent on it); ``outbound``: we handed the case over (``ref`` = their reference
    once they answered, else our case number)."""

    __tablename__ = "case_links"
    __table_args__ = (sa.UniqueConstraint("direction", "source", "ref", name="uq_case_links_direction_source_ref"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), index=True)
    direction: so.Mapped[str] = so.mapped_column(sa.String(8))  # inbound | outbound
    source_type: so.Mapped[str] = so.mapped_column(sa.String(16))  # 110 | 119 | 120 | 122 | hotline
    source: so.Mapped[str] = so.mapped_column(sa.String(64))  # the outside system's id
    ref: so.Mapped[str] = so.mapped_column(sa.String(64))
    status: so.Mapped[str] = so.mapped_column(sa.String(32), default="", server_default="")  # their last status
    data: so.Mapped[dict] = so.mapped_column(JSONType, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

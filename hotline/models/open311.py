"""Open311 (GeoReport v2) and the public feed: requests that came in through Open311, and what a supervisor chose
to publish (hotline/open311, hotline/api/publication.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow


class Open311Request(db.Model):
    """A case submitted through POST /open311/v2/requests: what the client sent besides the case itself."""

    __tablename__ = "open311_requests"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), unique=True)
    # SHA-256 of the token handed out for a request that gets no public id (a confidential report): the
    # spec's token flow, GET /tokens/{token}
    token_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    media_url: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    # the name the client gave (encrypted like every name), so the feed can redact it from the text
    name_enc: so.Mapped[str | None] = so.mapped_column(sa.Text)
    client_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))  # whose api_key
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class CasePublication(db.Model):
    """A supervisor's decision to show a case in the public Open311 feed (public) or to keep it out (not public,
    which also withdraws a request submitted through Open311). One row per case: the latest decision; the
    timeline keeps every one."""

    __tablename__ = "case_publications"

    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), primary_key=True)
    public: so.Mapped[bool] = so.mapped_column(default=False)
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    decided_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.Index("ix_case_publications_public", "public"),)

"""The data-sharing feed (issue 21): every case change with a commit-ordered cursor (hotline/feed/log.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow


class FeedChange(db.Model):
    """One change of a case (created, a timeline event, a rating); ``id`` is the cursor, given at the commit."""

    __tablename__ = "feed_changes"

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    case_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cases.id"), index=True)
    payload: so.Mapped[dict] = so.mapped_column(JSONType, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class FeedCursor(db.Model):
    """One row (id 1): the last feed cursor handed out (its row lock orders the commits that write changes)
    and the last cursor written by the export job (hotline/feed/export.py)."""

    __tablename__ = "feed_cursor"

    id: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    last: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    exported: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)

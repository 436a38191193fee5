"""Case search: the search terms of each case (character bigrams of title, content and address; see
hotline/search/terms.py) and the staff's saved filters.

The terms table is indexed per dialect by the migration (20261208_5fac1d2e3f0c): on SQLite an external-content
FTS5 table ``case_search_fts`` kept in sync by triggers, on PostgreSQL a GIN index on the stored generated
column ``tsv = to_tsvector('simple', terms)`` (PostgreSQL only, not mapped here).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow


class CaseSearchTerms(db.Model):
    __tablename__ = "case_search_terms"

    case_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    terms: so.Mapped[str] = so.mapped_column(sa.Text)


class SavedFilter(db.Model):
    """A named search of one staff member: the query string of /cases (``q=…&status=…``)."""

    __tablename__ = "saved_filters"
    __table_args__ = (sa.UniqueConstraint("user_id", "name", name="uq_saved_filters_user_name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(40))
    query: so.Mapped[str] = so.mapped_column(sa.String(1000))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

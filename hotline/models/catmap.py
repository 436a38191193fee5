"""Versions of the category → responsible unit map (归口表), published like the SLA policy: one row per version,
the newest is the one in force and is also written to ``categories.department_id`` / ``categories.local``,
which routing reads (hotline/policy/catmap.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow


class CategoryMapVersion(db.Model):
    __tablename__ = "category_map_versions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    version: so.Mapped[int] = so.mapped_column(unique=True)
    # [{"path": "城乡建设/物业管理", "unit": "FGJ" | None, "local": false}, ...], every category of the taxonomy
    rows: so.Mapped[list] = so.mapped_column(JSONType)
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))

"""The routing lexicon (路由词表): everyday words per taxonomy category (停水 水压 水管 … → 自来水供应), by which
the fine-grained router finds the level-3/level-2 category and its unit with no labelled history. Shipped as
data (hotline/seed/data/routing_lexicon.tsv, loaded by the seed), edited by the admin (routing admin page and
API); routing reads the enabled rows through the routing tables, rebuilt on ``bump_version()``."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.departments import Category
from hotline.models.types import UTCDateTime, utcnow


class RoutingLexicon(db.Model):
    __tablename__ = "routing_lexicon"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    category_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("categories.id"), unique=True)
    words: so.Mapped[str] = so.mapped_column(sa.Text, default="")  # whitespace-separated
    enabled: so.Mapped[bool] = so.mapped_column(default=True)
    updated_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: so.Mapped[Category] = so.relationship()

    @property
    def word_list(self) -> list[str]:
        return [w for w in (self.words or "").split() if w]

"""Idempotency keys: the first answer to a request sent with a key, replayed for the same key within 24 h."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow


class IdempotencyKey(db.Model):
    """One key of one caller (``scope``: ``user:ID`` for an authenticated caller, ``portal`` for the citizen
    form's single-use form id). Written in the same transaction as the effect it guards (the case), with the
    answer given, so a stored key always has its answer and a rolled-back request leaves no key behind. The
    unique (scope, key) makes concurrent requests with one key produce one effect. Pruned daily after 24 h
    (``workers/jobs/idempotency.py``)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        sa.UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),
        sa.Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    scope: so.Mapped[str] = so.mapped_column(sa.String(64))
    key: so.Mapped[str] = so.mapped_column(sa.String(200))
    # SHA-256 of the method, path and canonical body: the same key with another request is refused
    fingerprint: so.Mapped[str] = so.mapped_column(sa.String(64))
    status_code: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    content_type: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    body: so.Mapped[str | None] = so.mapped_column(sa.Text)
    case_number: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

"""Replay guard: one use of a signed request (WeChat's timestamp + nonce) within its signature window."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow


class ReplayGuard(db.Model):
    """A signed request seen: ``scope`` (``wechat``) and ``key`` (``TIMESTAMP:NONCE``) unique, with the SHA-256 of
    the body it came with. Kept until ``expires_at`` (the end of the signature window: an older timestamp is
    refused anyway), then pruned (hotline/wechat/replay.py). In the database, so every web process sees it and it
    holds while Redis is down."""

    __tablename__ = "replay_guards"
    __table_args__ = (
        sa.UniqueConstraint("scope", "key", name="uq_replay_guards_scope_key"),
        sa.Index("ix_replay_guards_expires_at", "expires_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    scope: so.Mapped[str] = so.mapped_column(sa.String(16))
    key: so.Mapped[str] = so.mapped_column(sa.String(128))
    fingerprint: so.Mapped[str] = so.mapped_column(sa.String(64))
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

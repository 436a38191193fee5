"""WeChat official account: inbound messages, one row per MsgId (WeChat retries with the same MsgId)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow


class WechatMessage(db.Model):
    """The dedupe record of an inbound message: inserted with ON CONFLICT DO NOTHING in the same transaction
    as the case it creates, so a retried MsgId finds the row (and the answer given) and creates nothing."""

    __tablename__ = "wechat_messages"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    msg_id: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    openid_hash: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)  # blind index, never the openid
    msg_type: so.Mapped[str] = so.mapped_column(sa.String(16), default="text")
    action: so.Mapped[str] = so.mapped_column(sa.String(16), default="")  # create | query | help | refused
    case_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cases.id"))
    reply: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

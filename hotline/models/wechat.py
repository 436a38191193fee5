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


class WechatFollower(db.Model):
    """A follower of the official account (blind index of the openid): the full welcome is sent once, at the first
    ``subscribe``; a follower who comes back gets a short 欢迎回来."""

    __tablename__ = "wechat_followers"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    openid_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    subscriptions: so.Mapped[int] = so.mapped_column(default=1)
    first_subscribed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_subscribed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class WechatLocation(db.Model):
    """A location message (Location_X/Location_Y, WGS-84 as WeChat sends them, and the map's Label). Kept for the
    citizen's next request (hotline/wechat/locations.py): attached to the case that text creates (``case_id``; the
    case's address is the label). Unattached rows are deleted once the window has passed. The cases table has no
    coordinate columns yet, so a case's coordinates live here, keyed by ``case_id``."""

    __tablename__ = "wechat_locations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    openid_hash: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    lat: so.Mapped[float] = so.mapped_column(sa.Float)
    lng: so.Mapped[float] = so.mapped_column(sa.Float)
    scale: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    label: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    case_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cases.id"), index=True)
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)

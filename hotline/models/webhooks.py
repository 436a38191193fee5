"""Outbound webhooks (issue 21): subscriptions and the delivery log. The deliveries themselves are ``outbox``
rows of channel ``webhook`` (hotline/webhooks/capture.py writes them in the change's transaction)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow


class WebhookSubscription(db.Model):
    __tablename__ = "webhook_subscriptions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    url: so.Mapped[str] = so.mapped_column(sa.String(500))
    events: so.Mapped[list] = so.mapped_column(JSONType, default=list)
    secret: so.Mapped[str] = so.mapped_column(sa.String(200))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    may_unmask: so.Mapped[bool] = so.mapped_column(default=False)
    # only cases linked to this outside system (hotline/linkage: case_links.source); "" = every case
    source: so.Mapped[str] = so.mapped_column(sa.String(64), default="", server_default="")
    # set when a delivery was still failing after 24 h of retries (the subscription stays active)
    flagged_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    flag_reason: so.Mapped[str] = so.mapped_column(sa.String(300), default="", server_default="")
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class WebhookAttempt(db.Model):
    """One HTTP attempt of one delivery, with the receiver's answer (the delivery log)."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (sa.Index("ix_webhook_attempts_subscription", "subscription_id", "id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    outbox_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("outbox.id"), index=True)
    # None: a linkage hand-off (hotline/linkage/handoff.py), not a subscription's delivery
    subscription_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("webhook_subscriptions.id"))
    delivery: so.Mapped[str] = so.mapped_column(sa.String(40))
    event: so.Mapped[str] = so.mapped_column(sa.String(32))
    status_code: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    error: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    duration_ms: so.Mapped[int] = so.mapped_column(default=0)
    attempted_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

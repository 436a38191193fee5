"""Subscriptions: validated creation and edits (shared by the admin API and the admin page), the delivery log,
redelivery. The caller commits. Granting ``may_unmask`` and every edit go to the admin audit log."""

from __future__ import annotations

import copy
from datetime import datetime

import sqlalchemy as sa

from hotline import audit
from hotline.cases.errors import InvalidInput, NotFound
from hotline.db.transactions import after_commit
from hotline.extensions import db
from hotline.models import Case, OutboxMessage, WebhookAttempt, WebhookSubscription
from hotline.webhooks.delivery import UnsafeUrl, check_url
from hotline.webhooks.fanout import CHANNEL, wake_relay
from hotline.webhooks.payloads import EVENTS

AUDITED = ("name", "url", "events", "active", "may_unmask", "source")


def parse_events(value) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise InvalidInput("invalid_input", "事件类型不能为空，必须是事件名列表", {"events": "至少选择一种事件"})
    unknown = [v for v in value if v not in EVENTS]
    if unknown:
        options = "、".join(EVENTS)
        raise InvalidInput(
            "invalid_input", f"未知的事件类型：{'、'.join(unknown)}（可选：{options}）", {"events": "包含未知的事件"}
        )
    return sorted(set(value), key=list(EVENTS).index)


def check_target(url: str, allow_private: bool) -> str:
    url = (url or "").strip()
    if not url or len(url) > 500:
        raise InvalidInput("invalid_input", "推送地址不能为空，且不超过500个字符", {"url": "推送地址无效"})
    try:
        check_url(url, allow_private)
    except UnsafeUrl as exc:
        raise InvalidInput("invalid_input", f"推送地址不可用：{exc}", {"url": str(exc)}) from None
    return url


def check_secret(secret: str) -> str:
    secret = (secret or "").strip()
    if not 8 <= len(secret) <= 200:
        raise InvalidInput("invalid_input", "签名密钥长度应为8到200个字符", {"secret": "密钥长度应为8到200个字符"})
    return secret


def view(sub: WebhookSubscription) -> dict:
    """A subscription as the API shows it (never its secret)."""
    return {
        "id": sub.id,
        "name": sub.name,
        "url": sub.url,
        "events": list(sub.events or []),
        "active": sub.active,
        "may_unmask": sub.may_unmask,
        "source": sub.source or None,
        "flagged_at": sub.flagged_at.isoformat() if sub.flagged_at else None,
        "flag_reason": sub.flag_reason or None,
        "created_at": sub.created_at.isoformat() if sub.created_at else None,
    }


def create(values: dict, actor, now: datetime, allow_private: bool) -> WebhookSubscription:
    events, secret = parse_events(values.get("events")), check_secret(values.get("secret"))
    sub = WebhookSubscription(
        name=(values.get("name") or "")[:100],
        url=check_target(values.get("url"), allow_private),
        events=events,
        secret=secret,
        active=bool(values.get("active", True)),
        may_unmask=bool(values.get("may_unmask", False)),
        source=(values.get("source") or "")[:64],
        created_by_id=getattr(actor, "id", None),
        created_at=now,
        updated_at=now,
    )
    db.session.add(sub)
    db.session.flush()
    audit.record(actor, "webhook.create", "webhook", sub.id, after=audit.snapshot(sub, AUDITED))
    return sub


def update(sub: WebhookSubscription, values: dict, actor, now: datetime, allow_private: bool) -> None:
    before = audit.snapshot(sub, AUDITED)
    if values.get("url") is not None:
        sub.url = check_target(values["url"], allow_private)
    if values.get("events") is not None:
        sub.events = parse_events(values["events"])
    if values.get("secret"):
        sub.secret = check_secret(values["secret"])
    for name in ("name", "source"):
        if values.get(name) is not None:
            setattr(sub, name, values[name][: 100 if name == "name" else 64])
    for name in ("active", "may_unmask"):
        if values.get(name) is not None:
            setattr(sub, name, bool(values[name]))
    if values.get("flagged") is False:
        sub.flagged_at, sub.flag_reason = None, ""
    sub.updated_at = now
    audit.record(actor, "webhook.update", "webhook", sub.id, before=before, after=audit.snapshot(sub, AUDITED))


def delete(sub: WebhookSubscription, actor) -> None:
    """Remove a subscription: its undelivered deliveries are cancelled, its log deleted."""
    o = OutboxMessage
    db.session.execute(
        sa.update(o)
        .where(o.channel == CHANNEL, o.recipient == f"webhook:{sub.id}", o.status.in_(("pending", "sending")))
        .values(status="failed", lease_until=None, last_error="订阅已删除")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(sa.delete(WebhookAttempt).where(WebhookAttempt.subscription_id == sub.id))
    audit.record(actor, "webhook.delete", "webhook", sub.id, before=audit.snapshot(sub, AUDITED))
    db.session.delete(sub)


def get(sub_id: int) -> WebhookSubscription:
    sub = db.session.get(WebhookSubscription, sub_id)
    if sub is None:
        raise NotFound("not_found", f"推送订阅 {sub_id} 不存在")
    return sub


def deliveries(sub: WebhookSubscription, limit: int = 100) -> list[dict]:
    """The subscription's deliveries, newest first, with their last answer's status code."""
    o, a = OutboxMessage, WebhookAttempt
    last = (
        sa.select(a.status_code)
        .where(a.outbox_id == o.id)
        .order_by(a.id.desc())
        .limit(1)
        .correlate(o)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(o, last.label("code"), Case.number)
        .outerjoin(Case, Case.id == o.case_id)
        .where(o.channel == CHANNEL, o.recipient == f"webhook:{sub.id}")
        .order_by(o.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "id": m.id,
            "delivery": (m.payload or {}).get("delivery"),
            "event": m.text,
            "status": m.status,
            "attempts": m.attempts,
            "response_code": code,
            "last_error": m.last_error or None,
            "case_number": number,
            "created_at": m.created_at.isoformat() if m.created_at else None,
            "sent_at": m.sent_at.isoformat() if m.sent_at else None,
        }
        for m, code, number in rows
    ]


def redeliver(sub: WebhookSubscription, outbox_id: int, actor, now: datetime) -> OutboxMessage:
    """Queue a delivery again (same body, same delivery id: a receiver that already has it ignores it)."""
    old = db.session.get(OutboxMessage, outbox_id)
    if old is None or old.channel != CHANNEL or old.recipient != f"webhook:{sub.id}":
        raise NotFound("not_found", f"推送记录 {outbox_id} 不存在")
    again = OutboxMessage(
        channel=CHANNEL,
        recipient=old.recipient,
        recipient_masked=old.recipient_masked,
        case_id=old.case_id,
        text=old.text,
        payload=copy.deepcopy(old.payload),
        created_at=now,
    )
    db.session.add(again)
    db.session.flush()
    audit.record(actor, "webhook.redeliver", "webhook", sub.id, detail=f"重新推送 {old.id} → {again.id}")
    after_commit(wake_relay)
    return again


def all_subscriptions() -> list[WebhookSubscription]:
    return list(db.session.scalars(sa.select(WebhookSubscription).order_by(WebhookSubscription.id)))

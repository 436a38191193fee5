"""Webhook relay (queue ``notify``): send the ``outbox`` rows of channel ``webhook`` — signed, in order per case.

Each round:

1. **claim** — one transaction picks up to ``limit`` due rows (pending with no back-off waiting, or ``sending``
   with an expired lease: their relay died) whose subscription has no EARLIER open row for the same case, marks
   them ``sending`` under a lease with this round's token and COMMITS. So per subscription and case at most one
   delivery is in flight and none overtakes an earlier one (a receiver that was down gets them in order once
   up). PostgreSQL picks ``FOR UPDATE SKIP LOCKED`` (relays never wait for each other); SQLite serialises claims.
   The body is built here; the citizen's full name and phone go only to subscriptions that may unmask, each
   such send written to the audit log (``audit_log``, action ``webhook_unmask``).
2. **send** — with no transaction open, in parallel threads (one per claimed row), each with
   HOTLINE_WEBHOOK_TIMEOUT (hotline/webhooks/delivery.py).
3. **record** — one transaction, only rows this round still holds: ``sent``; or ``pending`` with back-off; or
   ``failed`` 24 h after the event, the subscription flagged. Every attempt is a ``webhook_attempts`` row (the
   delivery log, with the answer's status code).

A relay killed between send and record leaves its rows ``sending``; they are claimed again when the lease
expires and sent again with the same delivery id (receivers dedupe by ``X-Hotline-Delivery``).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from hotline.citizens.profile import citizen_name, phone_number
from hotline.db.dialect import is_postgres
from hotline.extensions import connect_redis, db
from hotline.linkage import handoff
from hotline.models import (
    AuditLog,
    CaseLink,
    Citizen,
    CitizenPhone,
    OutboxMessage,
    WebhookAttempt,
    WebhookSubscription,
)
from hotline.webhooks import delivery
from hotline.webhooks.fanout import CHANNEL, WAKE_KEY
from workers.context import job

log = logging.getLogger(__name__)
BATCH = 100  # rows per round (and threads at most)
THREADS = 32
BUDGET = 60.0  # seconds a run keeps going; the scheduler's run every minute (or a wake-up) continues
OPEN = ("pending", "sending")


def _claimable(now: datetime, o):
    earlier = so.aliased(OutboxMessage, name="earlier")
    blocked = (
        sa.select(earlier.id)
        .where(
            earlier.channel == CHANNEL,
            earlier.recipient == o.recipient,
            earlier.case_id == o.case_id,
            earlier.id < o.id,
            earlier.status.in_(OPEN),
        )
        .exists()
    )
    return sa.and_(
        o.channel == CHANNEL,
        o.status.in_(OPEN),
        sa.or_(o.lease_until.is_(None), o.lease_until <= now),
        sa.or_(o.case_id.is_(None), ~blocked),
    )


def _unmasked(body: dict, unmask: dict, message: OutboxMessage, sub: WebhookSubscription) -> dict:
    citizen = db.session.get(Citizen, unmask.get("citizen_id"))
    phone = db.session.get(CitizenPhone, unmask.get("phone_id"))
    case = body.get("data", {}).get("case")
    if case is None or citizen is None:
        return body
    full = {"name": citizen_name(citizen) or "", "phone": phone_number(phone) if phone is not None else ""}
    db.session.add(
        AuditLog(
            user_id=None,
            action="webhook_unmask",
            citizen_id=citizen.id,
            case_id=message.case_id,
            detail=f"推送订阅 #{sub.id} {sub.url}"[:300],
        )
    )
    return {**body, "data": {**body["data"], "case": {**case, "citizen": full}}}


def claim(now: datetime, limit: int, lease: float) -> list[delivery.Prepared]:
    """Claim up to ``limit`` due deliveries and COMMIT; returns what to send."""
    o = OutboxMessage
    token = f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(6)}"
    pick = sa.select(o.id).where(_claimable(now, o)).order_by(o.id).limit(limit)
    if is_postgres():
        pick = pick.with_for_update(skip_locked=True, of=o)
    ids = list(db.session.scalars(pick))
    if not ids:
        db.session.commit()
        return []
    db.session.execute(
        sa.update(o)
        .where(o.id.in_(ids))
        .values(status="sending", claimed_by=token, lease_until=now + timedelta(seconds=lease), attempts=o.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    messages = list(db.session.scalars(sa.select(o).where(o.id.in_(ids)).order_by(o.id)))
    subs = {
        s.id: s
        for s in db.session.scalars(
            sa.select(WebhookSubscription).where(
                WebhookSubscription.id.in_({m.payload.get("subscription_id") for m in messages})
            )
        )
    }
    prepared = []
    settings = current_app.config["HOTLINE"]
    for message in messages:
        payload = message.payload or {}
        if not message.recipient.startswith("webhook:"):  # an emergency hand-off (hotline/linkage/handoff.py)
            target = handoff.target_of(message.recipient, settings)
            if target is None:
                message.status, message.lease_until, message.last_error = "failed", None, "联动地址未配置"
                continue
            prepared.append(
                delivery.Prepared(
                    message.id,
                    token,
                    None,
                    payload.get("delivery", ""),
                    payload.get("event", message.text),
                    target[0],
                    target[1],
                    delivery.encode(payload.get("body") or {}),
                )
            )
            continue
        sub = subs.get(payload.get("subscription_id"))
        if sub is None or not sub.active:
            message.status, message.lease_until = "failed", None
            message.last_error = "订阅已删除或已停用"
            continue
        body = payload.get("body") or {}
        if payload.get("unmask") and sub.may_unmask:
            body = _unmasked(body, payload["unmask"], message, sub)
        prepared.append(
            delivery.Prepared(
                message.id,
                token,
                sub.id,
                payload.get("delivery", ""),
                payload.get("event", message.text),
                sub.url,
                sub.secret,
                delivery.encode(body),
            )
        )
    db.session.commit()
    return prepared


def record(items: list[delivery.Prepared], outcomes: list[delivery.Outcome], now: datetime) -> int:
    """Store the outcomes of one round and COMMIT (rows whose claim was lost are left alone); returns how many
    were delivered."""
    o = OutboxMessage
    sent = 0
    ids = [item.outbox_id for item in items]
    rows = {m.id: m for m in db.session.scalars(sa.select(o).where(o.id.in_(ids)))}
    for item, outcome in zip(items, outcomes, strict=True):
        message = rows.get(item.outbox_id)
        db.session.add(
            WebhookAttempt(
                outbox_id=item.outbox_id,
                subscription_id=item.subscription_id,
                delivery=item.delivery,
                event=item.event,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
                attempted_at=now,
            )
        )
        if message is None or message.status != "sending" or message.claimed_by != item.token:
            log.warning("webhook delivery %s: lease lost before its outcome was recorded", item.outbox_id)
            continue
        if message.recipient.startswith("linkage:"):
            handoff_answer(message, outcome, now)
        if outcome.ok:
            message.status, message.sent_at, message.lease_until, message.last_error = "sent", now, None, ""
            sent += 1
        elif delivery.expired(message.created_at, now):
            message.status, message.lease_until, message.last_error = "failed", None, outcome.error
            sub = db.session.get(WebhookSubscription, item.subscription_id) if item.subscription_id else None
            if sub is not None:
                sub.flagged_at = now
                sub.flag_reason = f"推送 {item.delivery} 重试 24 小时仍失败：{outcome.error}"[:300]
        else:
            message.status, message.last_error = "pending", outcome.error
            message.lease_until = now + delivery.backoff(message.attempts)
    db.session.commit()
    return sent


def handoff_answer(message: OutboxMessage, outcome: delivery.Outcome, now: datetime) -> None:
    """Record the line's answer on the case's outbound link."""
    line = message.recipient.partition(":")[2]
    link = db.session.scalar(
        sa.select(CaseLink).where(
            CaseLink.case_id == message.case_id, CaseLink.direction == "outbound", CaseLink.source == line
        )
    )
    if link is not None:
        link.status = "delivered" if outcome.ok else "retrying"
        link.data = {**(link.data or {}), "response_code": outcome.status_code, "error": outcome.error}
        link.updated_at = now


def run_round(clock, limit: int, pool: ThreadPoolExecutor) -> tuple[int, int]:
    """One claim → send → record round; returns (claimed, delivered)."""
    settings = current_app.config["HOTLINE"]
    lease = max(60.0, 4 * float(settings.webhook_timeout))
    items = claim(clock(), limit, lease)
    if not items:
        return 0, 0
    timeout, private = float(settings.webhook_timeout), bool(settings.webhook_allow_private)
    outcomes = list(pool.map(lambda item: delivery.attempt(item, timeout, private), items))
    return len(items), record(items, outcomes, clock())


@job
def relay_webhooks(limit: int = BATCH, now: datetime | None = None, budget: float = BUDGET) -> int:
    """Send due webhook deliveries until none is due or ``budget`` seconds passed; returns how many were
    delivered. ``now`` is injected by tests (default: the clock at each step)."""
    try:
        connect_redis(current_app.config["HOTLINE"]).delete(WAKE_KEY)  # commits from now on wake another run
    except Exception:
        log.debug("webhook wake key not cleared", exc_info=True)
    clock = (lambda: now) if now is not None else (lambda: datetime.now(UTC))
    started, delivered = time.monotonic(), 0
    with ThreadPoolExecutor(max_workers=min(THREADS, limit)) as pool:
        while time.monotonic() - started < budget:
            claimed, sent = run_round(clock, limit, pool)
            delivered += sent
            if claimed == 0:
                break
    return delivered

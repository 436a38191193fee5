"""The outbox rows of webhook deliveries, written in the transaction of the change they report.

Case changes reach here from the change log's before-commit step (hotline/feed/changes.py: every case created,
every timeline event, every rating of the transaction); anything else calls :func:`enqueue_event` in its own
transaction, e.g. ``enqueue_event("alert.raised", {...})``. One ``outbox`` row (channel ``webhook``, recipient
``webhook:<subscription id>``) per event and subscription; its payload is the body to send, with a fresh
delivery id. The relay (workers/jobs/webhooks.py) is woken after the commit.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
import sqlalchemy as sa
from flask import current_app

from hotline.db.transactions import after_commit
from hotline.extensions import connect_redis, db, redis_breaker
from hotline.jobs import NOTIFY, enqueue
from hotline.models import Case, CaseEvent, CaseLink, OutboxMessage, Rating, WebhookSubscription
from hotline.webhooks.payloads import EVENTS, case_view, change_view, events_of_change, rating_view

log = logging.getLogger(__name__)
CHANNEL = "webhook"
RELAY_WEBHOOKS = "workers.jobs.webhooks.relay_webhooks"
WAKE_KEY = "hotline:webhooks:wake"
WAKE_TTL = 30


@dataclass
class Change:
    """One change of a case in the committing transaction: ``created``, ``event`` (a timeline event) or
    ``rating``."""

    kind: str
    case: Case
    event: CaseEvent | None = None
    rating: Rating | None = None


def links_of(case_id: int) -> list[dict]:
    rows = db.session.scalars(sa.select(CaseLink).where(CaseLink.case_id == case_id).order_by(CaseLink.id))
    return [
        {"direction": r.direction, "source_type": r.source_type, "source": r.source, "ref": r.ref, "status": r.status}
        for r in rows
    ]


def _active() -> list[WebhookSubscription]:
    return list(db.session.scalars(sa.select(WebhookSubscription).where(WebhookSubscription.active.is_(True))))


def _wanted(sub: WebhookSubscription, event: str, links: list[dict] | None) -> bool:
    if event not in (sub.events or []):
        return False
    return not sub.source or any(link["source"] == sub.source for link in links or [])


def _add(sub: WebhookSubscription, event: str, data: dict, case: Case | None, now: datetime) -> None:
    delivery = str(uuid.uuid4())
    body = {"id": delivery, "event": event, "occurred_at": now.isoformat(), "data": data}
    unmask = None
    if sub.may_unmask and case is not None:
        unmask = {"citizen_id": case.citizen_id, "phone_id": case.phone_id}
    db.session.add(
        OutboxMessage(
            channel=CHANNEL,
            recipient=f"webhook:{sub.id}",
            recipient_masked=sub.url[:64],
            case_id=case.id if case is not None else None,
            text=event,
            payload={"subscription_id": sub.id, "delivery": delivery, "event": event, "body": body, "unmask": unmask},
            created_at=now,
        )
    )


def fan_out(changes: list[Change], now: datetime | None = None) -> int:
    """Queue the deliveries of ``changes`` (called before the commit); returns how many rows were added."""
    now = now or datetime.now(UTC)
    subs = _active()
    if not subs or not changes:
        return 0
    wanted = {e for s in subs for e in (s.events or [])}
    added, links, views = 0, {}, {}
    for change in changes:
        names = [n for n in events_of_change(change.kind, change.event) if n in wanted]
        if not names:
            continue
        case = change.case
        if case.id not in links:
            links[case.id] = links_of(case.id)
            views[case.id] = case_view(case, links[case.id])
        data: dict = {"case": views[case.id]}
        if change.event is not None:
            data["change"] = change_view(change.event)
        if change.rating is not None:
            data["rating"] = rating_view(change.rating)
        for name in names:
            for sub in subs:
                if _wanted(sub, name, links[case.id]):
                    _add(sub, name, data, case, now)
                    added += 1
    if added:
        after_commit(wake_relay)
    return added


def enqueue_event(event: str, data: dict, case: Case | None = None, now: datetime | None = None) -> int:
    """Queue ``event`` (one of ``EVENTS``, e.g. ``alert.raised``) with ``data`` for every active subscription
    that wants it, in the current transaction (the caller commits; nothing is sent on rollback). Returns how many
    deliveries were queued."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    now = now or datetime.now(UTC)
    links = links_of(case.id) if case is not None and case.id is not None else None
    added = 0
    for sub in _active():
        if _wanted(sub, event, links if sub.source else []):
            _add(sub, event, data, case, now)
            added += 1
    if added:
        after_commit(wake_relay)
    return added


def wake_relay() -> None:
    """Enqueue the webhook relay unless one is queued and not started yet (the job deletes the key when it
    starts). Never raises: the scheduler's run every minute catches up."""
    if not redis_breaker.allows():
        return
    try:
        client = connect_redis(current_app.config["HOTLINE"])
        if client.set(WAKE_KEY, b"1", nx=True, ex=WAKE_TTL):
            enqueue(RELAY_WEBHOOKS, queue=NOTIFY)
    except redis.RedisError as exc:
        log.warning("webhook relay not woken, Redis unavailable (%s); its periodic run will send", exc)

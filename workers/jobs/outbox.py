"""Outbox relay: deliver the messages queued with a change, after its transaction committed — never twice.

In-app notices are rows of our own database: a batch of them is delivered in one transaction (the
``notifications`` rows and the ``sent`` mark commit together, ``uq_notifications_outbox_user`` backs it), so
each is delivered exactly once.

Messages through an outside gateway (``sms``, ``wechat``: ``hotline/channels``) go one at a time:

1. **claim** — one short transaction marks the oldest claimable message ``sending`` with a lease
   (``lease_until``, ``claimed_by`` = a token of this claim, ``attempts + 1``) and COMMITS. Claimable: pending
   and due (no back-off pending), or ``sending`` with an expired lease — its relay was killed. PostgreSQL picks
   the row ``FOR UPDATE SKIP LOCKED`` (relays never wait for each other); on SQLite the claim is a conditional
   UPDATE inside ``BEGIN IMMEDIATE`` (claims are serialised).
2. **send** — the sender runs with no transaction open (no row lock, no SQLite write lock) and a timeout
   (``HOTLINE_SMS_GATEWAY_TIMEOUT``; WeChat 10 s). The outbox id is the gateway's dedupe key: the SMS gateway
   gets it as ``client_ref`` (``{id}`` of the body template) and the ``Idempotency-Key`` header, WeChat as
   ``client_msg_id``.
3. **record** — one transaction per message, only while this claim still holds it (``status = 'sending'``
   and ``claimed_by`` = the token): ``sent``; or ``pending`` again with back-off after a failure; ``failed``
   after ``MAX_ATTEMPTS``.

Guarantee: a relay holds at most one outside message at a time, so a relay killed at any instant leaves at
most one message whose fate is unknown (the gateway may have taken it). That message is claimed again when
its lease expires and sent with the same key: a gateway that honours the key delivers it once; one that
ignores the key delivers it at most once more (one message per killed relay, or per call that timed out).
Measured in ``tests/faults/test_outbox_relay.py``.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from hotline import channels
from hotline.db.dialect import is_postgres
from hotline.db.transactions import savepoint
from hotline.extensions import db
from hotline.jobs import RELAY_OUTBOX, enqueue
from hotline.models import Case, Department, Notification, OutboxMessage, User
from hotline.realtime.publish import publish
from workers.context import job

log = logging.getLogger(__name__)

BATCH = 200  # messages per run (in-app notices per transaction)
BUDGET = 60.0  # seconds a run keeps claiming outside messages (RQ's job timeout is 180 s); then it re-enqueues
LEASE_MIN = 120.0  # seconds: a lease outlives any gateway call (several times its timeout), see lease_seconds()
MAX_ATTEMPTS = 8  # back-off 30 s, 1, 2, 4, 8, 16, 30 min: a gateway outage of about an hour loses nothing
BACKOFF_BASE, BACKOFF_MAX = 30.0, 1800.0
OPEN = sa.text("status IN ('pending', 'sending')")  # the rows of the partial index ix_outbox_open


def lease_seconds() -> float:
    return max(LEASE_MIN, 4 * float(current_app.config["HOTLINE"].sms_gateway_timeout))


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX))


def _recipients(recipient: str) -> list[int]:
    kind, _, value = recipient.partition(":")
    if kind == "user":
        return [int(value)]
    if kind == "role":
        return list(db.session.scalars(sa.select(User.id).where(User.role == value, User.active.is_(True))))
    if kind == "department":
        dept = db.session.get(Department, int(value))
        if dept is None:
            return []
        # The unit's own users and those of its superior units (who oversee sub-units).
        ancestors = [p for p in dept.path.strip("/").split("/") if p]
        return list(
            db.session.scalars(
                sa.select(User.id)
                .join(Department, User.department_id == Department.id)
                .where(Department.code.in_(ancestors), User.active.is_(True))
            )
        )
    return []


def _deliver_inapp(message: OutboxMessage, now: datetime) -> None:
    case_number = (
        db.session.scalar(sa.select(Case.number).where(Case.id == message.case_id)) if message.case_id else None
    )
    existing = set(db.session.scalars(sa.select(Notification.user_id).where(Notification.outbox_id == message.id)))
    for user_id in _recipients(message.recipient):
        if user_id in existing:
            continue
        note = Notification(
            user_id=user_id, outbox_id=message.id, case_id=message.case_id, text=message.text, created_at=now
        )
        db.session.add(note)
        db.session.flush()
        publish(
            "notification",
            {"id": note.id, "text": note.text, "case_number": case_number, "created_at": now.isoformat()},
            [f"user:{user_id}"],
        )


def _claimable(now: datetime, o=OutboxMessage):
    return sa.and_(OPEN, o.attempts < MAX_ATTEMPTS, sa.or_(o.lease_until.is_(None), o.lease_until <= now))


def _fail(message: OutboxMessage, error: str, now: datetime) -> None:
    message.last_error = error[:500]
    if message.attempts >= MAX_ATTEMPTS:
        message.status, message.lease_until = "failed", None
    else:
        message.status, message.lease_until = "pending", now + backoff(message.attempts)


def relay_inapp(now: datetime, limit: int) -> int:
    """Deliver up to ``limit`` due in-app notices in one transaction; returns how many were handled."""
    query = (
        sa.select(OutboxMessage)
        .where(OutboxMessage.channel == "inapp", _claimable(now))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if is_postgres():
        query = query.with_for_update(skip_locked=True)
    messages = list(db.session.scalars(query))
    for message in messages:
        message.attempts += 1
        try:
            with savepoint():  # a failed notice takes back only its own rows and emits
                _deliver_inapp(message, now)
            message.status, message.sent_at, message.lease_until = "sent", now, None
        except Exception as exc:
            log.warning("in-app notice %s failed", message.id, exc_info=True)
            _fail(message, str(exc), now)
    db.session.commit()
    return len(messages)


def _give_up_dead_claims(now: datetime) -> None:
    """Messages whose relays died ``MAX_ATTEMPTS`` times (a message that kills its relay) are failed."""
    o = OutboxMessage
    db.session.execute(
        sa.update(o)
        .where(o.status == "sending", o.attempts >= MAX_ATTEMPTS, o.lease_until <= now, o.channel != "webhook")
        .values(status="failed", lease_until=None, last_error="发送中断次数过多（发送进程多次中止），已放弃")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def claim(now: datetime, lease: float) -> tuple[OutboxMessage, str] | None:
    """Claim the oldest due outside message for this relay and COMMIT; returns the message (detached: reading
    it opens no transaction) and the claim's token, or None when nothing is due."""
    o, c = OutboxMessage, so.aliased(OutboxMessage, name="candidate")
    token = f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(6)}"
    # webhook deliveries have a relay of their own (workers/jobs/webhooks.py: in order per case, 24 h of retries)
    pick = sa.select(c.id).where(c.channel.not_in(("inapp", "webhook")), _claimable(now, c)).order_by(c.id).limit(1)
    if is_postgres():
        pick = pick.with_for_update(skip_locked=True)
    claimed = db.session.scalar(
        sa.update(o)
        # ``id = (scalar subquery)``: PostgreSQL runs it once (an InitPlan). Never ``id IN (…)``: as a semi-join the
        # subquery may be rescanned per row, and with SKIP LOCKED each rescan picks another row (all get claimed).
        .where(o.id == pick.scalar_subquery(), _claimable(now))  # conditional: the row is still claimable
        .values(status="sending", claimed_by=token, lease_until=now + timedelta(seconds=lease), attempts=o.attempts + 1)
        .returning(o.id)
        .execution_options(synchronize_session=False)
    )
    message = db.session.get(o, claimed, populate_existing=True) if claimed is not None else None
    if message is not None:
        db.session.expunge(message)
    db.session.commit()
    return (message, token) if message is not None else None


def record(message: OutboxMessage, token: str, error: str | None, now: datetime) -> bool:
    """Store the outcome of one send and COMMIT, unless the claim was lost (its lease expired and another
    relay claimed the message): then nothing is written and False returned."""
    o = OutboxMessage
    if error is None:
        values = {"status": "sent", "sent_at": now, "lease_until": None}
    elif message.attempts >= MAX_ATTEMPTS:
        values = {"status": "failed", "lease_until": None, "last_error": error[:500]}
    else:
        values = {"status": "pending", "lease_until": now + backoff(message.attempts), "last_error": error[:500]}
    done = db.session.execute(
        sa.update(o)
        .where(o.id == message.id, o.status == "sending", o.claimed_by == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if done.rowcount != 1:
        log.warning("outbox message %s: lease lost before its outcome was recorded", message.id)
    return done.rowcount == 1


def send(message: OutboxMessage, now: datetime) -> str | None:
    """Call the channel's sender (no transaction is open); returns the error, or None when it was sent."""
    sender = channels.sender_for(message.channel)
    if sender is None:
        return f"no sender for channel {message.channel}"
    try:
        sender(message, now)  # sms, wechat: hotline/channels; the outbox id is the gateway's dedupe key
    except Exception as exc:
        log.warning("outbox message %s (%s) not sent: %s", message.id, message.channel, exc)
        return str(exc) or type(exc).__name__
    return None


def relay_outside(clock, limit: int, lease: float, budget: float) -> tuple[int, bool]:
    """Send up to ``limit`` outside messages one by one; returns (handled, more may be due)."""
    handled, started = 0, time.monotonic()
    while handled < limit:
        if time.monotonic() - started >= budget:
            return handled, True
        claimed = claim(clock(), lease)
        if claimed is None:
            return handled, False
        message, token = claimed
        error = send(message, clock())
        record(message, token, error, clock())
        handled += 1
    return handled, True


@job
def relay_outbox(
    limit: int = BATCH, now: datetime | None = None, lease: float | None = None, budget: float = BUDGET
) -> int:
    """Deliver up to ``limit`` in-app notices and ``limit`` outside messages that are due; returns how many
    were handled. ``now`` is injected by tests (default: the clock, read at each step); ``lease`` in seconds
    (default: :func:`lease_seconds`)."""
    clock = (lambda: now) if now is not None else (lambda: datetime.now(UTC))
    handled = relay_inapp(clock(), limit)
    _give_up_dead_claims(clock())
    outside, more = relay_outside(clock, limit, lease if lease is not None else lease_seconds(), budget)
    if more or handled >= limit:  # stopped by the limit or the time budget: another run continues
        try:
            enqueue(RELAY_OUTBOX)
        except Exception:  # the scheduler's run every minute continues instead
            log.warning("outbox relay could not re-enqueue itself", exc_info=True)
    return handled + outside

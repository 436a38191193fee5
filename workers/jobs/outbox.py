"""Outbox relay: deliver queued side effects after their transaction committed. Safe to run twice."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from hotline import channels
from hotline.db.dialect import is_postgres
from hotline.extensions import db
from hotline.models import Case, Department, Notification, OutboxMessage, User
from hotline.realtime.publish import publish
from workers.context import job

BATCH = 200


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


@job
def relay_outbox(limit: int = BATCH) -> int:
    """Deliver up to ``limit`` pending messages; returns how many were handled."""
    query = sa.select(OutboxMessage).where(OutboxMessage.status == "pending").order_by(OutboxMessage.id).limit(limit)
    if is_postgres():
        query = query.with_for_update(skip_locked=True)
    messages = list(db.session.scalars(query))
    now = datetime.now(UTC)
    for message in messages:
        message.attempts += 1
        try:
            if message.channel == "inapp":
                _deliver_inapp(message, now)
            elif (sender := channels.sender_for(message.channel)) is not None:
                sender(message, now)  # sms, wechat: hotline/channels
            else:
                raise ValueError(f"no sender for channel {message.channel}")
            message.status, message.sent_at = "sent", now
        except Exception as exc:
            message.last_error = str(exc)[:500]
            if message.attempts >= 5:
                message.status = "failed"
    db.session.commit()
    return len(messages)

"""Queue in-app notices through the outbox (delivered after commit by the relay job)."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.extensions import db
from hotline.jobs import RELAY_OUTBOX, enqueue_on_commit
from hotline.models import OutboxMessage
from hotline.models.types import utcnow


def notify_department(department_id: int, text: str, case_id: int | None = None) -> None:
    _queue(f"department:{department_id}", text, case_id)


def notify_role(role: str, text: str, case_id: int | None = None) -> None:
    _queue(f"role:{role}", text, case_id)


def notify_user(user_id: int, text: str, case_id: int | None = None) -> None:
    _queue(f"user:{user_id}", text, case_id)


def _queue(recipient: str, text: str, case_id: int | None) -> None:
    db.session.add(
        OutboxMessage(
            channel="inapp", recipient=recipient, recipient_masked=recipient, case_id=case_id, text=text, payload={}
        )
    )
    enqueue_on_commit(RELAY_OUTBOX)


def notify_many(notices: list[tuple[str, str, int | None]]) -> None:
    """Queue many ``(recipient, text, case_id)`` notices with one bulk INSERT (recipient: "department:ID",
    "role:ROLE" or "user:ID") and one relay enqueue — for the SLA sweeper, which may card thousands at once."""
    if not notices:
        return
    db.session.execute(
        sa.insert(OutboxMessage),
        [
            {
                "channel": "inapp",
                "recipient": r,
                "recipient_masked": r,
                "case_id": c,
                "text": t,
                "payload": {},
                "status": "pending",
                "attempts": 0,
                "last_error": "",
                "created_at": utcnow(),
            }
            for r, t, c in notices
        ],
    )
    enqueue_on_commit(RELAY_OUTBOX)

"""Queue in-app notices through the outbox (delivered after commit by the relay job)."""
from __future__ import annotations

from hotline.extensions import db
from hotline.models import OutboxMessage


def notify_department(department_id: int, text: str, case_id: int | None = None) -> None:
    _queue(f"department:{department_id}", text, case_id)


def notify_role(role: str, text: str, case_id: int | None = None) -> None:
    _queue(f"role:{role}", text, case_id)


def notify_user(user_id: int, text: str, case_id: int | None = None) -> None:
    _queue(f"user:{user_id}", text, case_id)


def _queue(recipient: str, text: str, case_id: int | None) -> None:
    from workers import enqueue_on_commit
    from workers.jobs.outbox import relay_outbox

    db.session.add(OutboxMessage(channel="inapp", recipient=recipient, recipient_masked=recipient,
                                 case_id=case_id, text=text, payload={}))
    enqueue_on_commit(relay_outbox)

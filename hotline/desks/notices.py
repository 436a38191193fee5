"""In-app notices of one user: unread count (the bell), the list, marking read."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from hotline.cases.errors import InvalidInput
from hotline.extensions import db
from hotline.models import Case, Notification, User

MAX_IDS = 500


def unread_count(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def items(user: User, unread_only: bool = False, limit: int = 50) -> list[dict]:
    query = (
        sa.select(Notification, Case.number)
        .outerjoin(Case, Case.id == Notification.case_id)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return [
        {
            "id": n.id,
            "text": n.text,
            "case_number": number,
            "created_at": n.created_at.isoformat(),
            "read": n.read_at is not None,
        }
        for n, number in db.session.execute(query)
    ]


def mark_read(user: User, ids: list | None, now: datetime) -> int:
    """Mark the user's notices ``ids`` (None: all of them) read; returns how many changed. Others' ids are
    ignored (a user reads only their own notices)."""
    query = sa.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        if not isinstance(ids, list) or len(ids) > MAX_IDS or not all(type(i) is int and 0 < i < 2**31 for i in ids):
            raise InvalidInput(
                "invalid_input", f"ids 必须是通知编号（正整数）的数组，最多 {MAX_IDS} 个", {"ids": "格式不正确"}
            )
        if not ids:
            return 0
        query = query.where(Notification.id.in_(ids))
    return db.session.execute(query.values(read_at=now).execution_options(synchronize_session=False)).rowcount

"""Pages of the change log after a cursor: the body of GET /api/v1/feed/cases (and of the export job)."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import FeedChange, FeedCursor

ROWS = FeedChange.__table__
COUNTER = FeedCursor.__table__
LIMIT, MAX_LIMIT = 500, 5000


def head() -> int:
    """The highest cursor committed: every change up to it is visible now, and no later commit goes below it."""
    return db.session.scalar(sa.select(COUNTER.c.last).where(COUNTER.c.id == 1)) or 0


def item(row) -> dict:
    """One change as the feed shows it: the case as it was after the change, with the change in ``events``."""
    payload = row.payload
    change = payload.get("change")
    if change is None and "rating" in payload:
        rating = payload["rating"]
        change = {"action": "rating", "at": rating.get("at"), "rating": rating}
    return {
        **payload["case"],
        "cursor": row.id,
        "kind": row.kind,
        "changed_at": row.created_at.isoformat(),
        "events": [change] if change is not None else [],
    }


def page(since: int, limit: int = LIMIT) -> dict:
    """The changes after ``since``, oldest first, at most ``limit``; ``next`` is where to continue. With nothing
    more to read ``next`` is the head (a later call returns only changes committed after this one)."""
    last = head()
    rows = db.session.execute(
        sa.select(ROWS.c.id, ROWS.c.kind, ROWS.c.payload, ROWS.c.created_at)
        .where(ROWS.c.id > since, ROWS.c.id <= last)
        .order_by(ROWS.c.id)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    following = rows[-1].id if more else max(last, since if since <= last else last)
    return {
        "items": [item(r) for r in rows],
        "next": following,
        "more": more,
        "head": last,
        "reset": since > last,  # ahead of this database (restored from a backup): start again from `next`
    }

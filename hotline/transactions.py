"""Run side effects only after the database commit succeeds (and drop them on rollback)."""
from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from hotline.extensions import db

log = logging.getLogger(__name__)
_KEY = "hotline_after_commit"


def after_commit(fn, *args, **kwargs) -> None:
    """Queue ``fn(*args, **kwargs)`` to run once the current transaction commits (once per transaction
    for identical calls)."""
    pending = db.session.info.setdefault(_KEY, [])
    item = (fn, args, kwargs)
    if item not in pending:
        pending.append(item)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    pending = session.info.pop(_KEY, [])
    for fn, args, kwargs in pending:
        try:
            fn(*args, **kwargs)
        except Exception:  # a failed emit/enqueue must never undo a committed change
            log.exception("after-commit hook %s failed", getattr(fn, "__name__", fn))


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction) -> None:
    session.info.pop(_KEY, None)

"""Run side effects only after the database commit succeeds (and drop them on rollback)."""

from __future__ import annotations

import logging
from contextlib import contextmanager

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


def queued(session: Session, fn) -> list[tuple]:
    """The arguments of each call of ``fn`` queued in ``session`` for after its commit (a before-commit step reads
    them: hotline/realtime/eventlog.py gives the queued Socket.IO events their cursors)."""
    return [args for queued_fn, args, _kwargs in session.info.get(_KEY, []) if queued_fn is fn]


@contextmanager
def savepoint():
    """A SAVEPOINT (``begin_nested``) whose after-commit hooks go with it when it rolls back, while the
    hooks queued before it stay (a batch job keeps the emits of the items that succeeded)."""
    before = list(db.session.info.get(_KEY, []))
    try:
        with db.session.begin_nested():
            yield
    except Exception:
        db.session.info[_KEY] = before
        raise


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a SAVEPOINT was released (SQLAlchemy fires after_commit for that too): not committed yet
    pending = session.info.pop(_KEY, [])
    for fn, args, kwargs in pending:
        try:
            fn(*args, **kwargs)
        except Exception:  # a failed emit/enqueue must never undo a committed change
            log.exception("after-commit hook %s failed", getattr(fn, "__name__", fn))


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.nested:
        return  # a SAVEPOINT rolled back: ``savepoint()`` drops only what was queued inside it
    session.info.pop(_KEY, None)

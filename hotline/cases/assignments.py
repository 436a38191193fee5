"""Exactly one effect for actions on a unit's task (assignment) under concurrency.

Actions on an assignment alone — 协办派单, an assisting unit's 签收/答复/退回, 首次联系 — change no column of the
case, so the case's optimistic lock (``version``) does not see two concurrent requests. Here:

- a new assignment is stored inside a SAVEPOINT; the partial unique index ``ux_assignments_live`` (one live
  — pending or signed — task per case, unit and role) refuses the second of two concurrent dispatches, which
  becomes the same ``already_assigned`` refusal a sequential second dispatch gets;
- a change of an assignment's state is a conditional ``UPDATE … WHERE id = :id AND <expected state>``: on
  PostgreSQL the second of two concurrent requests waits for the first's row lock, then finds the row no
  longer in the expected state (0 rows), reloads it and is refused as if it had come second (SQLite runs
  writing transactions one after the other, ``BEGIN IMMEDIATE``, so there the refusal comes from the check).

Only the winner goes on to write its timeline event, timers and notices.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from hotline.cases.errors import Conflict, RuleRefused
from hotline.extensions import db
from hotline.models import Assignment, Department

LIVE_INDEX = "ux_assignments_live"


def _is_live_duplicate(err: IntegrityError) -> bool:
    text = str(err.orig)
    # PostgreSQL names the index; SQLite names the columns of the violated unique index
    return LIVE_INDEX in text or "assignments.case_id, assignments.department_id, assignments.role" in text


@contextmanager
def stored_once(department: Department) -> Iterator[None]:
    """Create the assignment inside the ``with`` block: it is flushed in a SAVEPOINT, and a live assignment of
    the same case, unit and role stored meanwhile by a concurrent request refuses it (``already_assigned``)."""
    db.session.flush()  # the request's earlier changes stay outside the savepoint
    name = department.name
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except IntegrityError as err:
        if not _is_live_duplicate(err):
            raise
        raise RuleRefused("already_assigned", f"{name}已在办理该工单，不能重复派单") from None


def claim(assignment: Assignment, expected: sa.ColumnElement[bool], **values) -> bool:
    """Set ``values`` on the assignment only if it is still in the ``expected`` state (one conditional UPDATE).
    True: this request made the change (the loaded object carries the new values). False: a concurrent
    request changed it first; the object is reloaded with what that request left."""
    result = db.session.execute(
        sa.update(Assignment).where(Assignment.id == assignment.id, expected).values(**values),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        db.session.refresh(assignment)
        return False
    for name, value in values.items():
        set_committed_value(assignment, name, value)
    return True


def lost(action_label: str) -> Conflict:
    """The refusal for a request that lost the race when the reloaded state names no better reason."""
    return Conflict(
        "assignment_changed", f"该任务已被他人同时处理，不能再执行「{action_label}」操作，请刷新后查看最新状态"
    )

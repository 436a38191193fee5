"""The change log: every case change of a transaction, written with a commit-ordered cursor just before COMMIT.

Collecting. A ``before_flush`` listener notes every new ``CaseEvent`` (hotline/cases/timeline.py ``record()``, the
one writer of timeline events through the session) and ``Rating``; cases registered by ``create_case()`` (a Core
insert, hotline/db/insert.py) are found through their ``case.created`` Socket.IO event queued for the commit
(hotline/realtime/eventlog.py). Rows rolled back with a SAVEPOINT are left out (no longer persistent).

Writing. Just before the transaction commits, after the console event log took its cursors: the webhook deliveries
(hotline/webhooks/fanout.py: outbox rows) and one ``feed_changes`` row per change. The cursors come from the one
row of ``feed_cursor`` — ``UPDATE … SET last = last + n RETURNING last`` is the last statement before COMMIT, and
its row lock is held until the commit is done, so a transaction taking later cursors waits for the earlier one's
commit: cursor order is commit order, and ``last`` as read by anyone is a point up to which every change is
committed and visible (the idea of the console's cursors). A reader stops at ``last``; nothing can appear below it
later, so paging by cursor has no gaps and no repeats under concurrent writers.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from hotline.db.transactions import queued
from hotline.models import Case, CaseEvent, FeedChange, FeedCursor, Rating
from hotline.realtime import eventlog
from hotline.webhooks.fanout import Change, fan_out, links_of
from hotline.webhooks.payloads import case_view, change_view, rating_view

KEY = "hotline_feed_changes"
ROWS = FeedChange.__table__
COUNTER = FeedCursor.__table__


@sa_event.listens_for(Session, "before_flush")
def _note_new(session: Session, flush_context, instances) -> None:
    new = [obj for obj in session.new if isinstance(obj, CaseEvent | Rating)]
    if new:
        session.info.setdefault(KEY, []).extend(new)


def _created(session: Session) -> list[Case]:
    numbers = [
        payload["number"]
        for (pending,) in queued(session, eventlog._deliver)
        if pending.event == "case.created"
        for payload, _rooms in pending.items
    ]
    if not numbers:
        return []
    found = {obj.number: obj for obj in session.identity_map.values() if isinstance(obj, Case)}
    missing = [n for n in numbers if n not in found]
    if missing:
        found.update({c.number: c for c in session.scalars(sa.select(Case).where(Case.number.in_(missing)))})
    return [found[n] for n in numbers if n in found]


def collect(session: Session) -> list[Change]:
    """The case changes of the committing transaction, in the order they were made (cases created first)."""
    created = _created(session)
    if not created and not session.info.get(KEY) and not session.new:
        return []
    session.flush()
    noted = session.info.pop(KEY, [])
    changes = [Change("created", case, case.events[0] if case.events else None) for case in created]
    for obj in noted:
        state = inspect(obj)
        if not state.persistent or state.deleted:
            continue  # rolled back with its SAVEPOINT
        if isinstance(obj, CaseEvent):
            if obj.action != "create":
                changes.append(Change("event", obj.case, obj))
        else:
            case = session.get(Case, obj.case_id)
            if case is not None:
                changes.append(Change("rating", case, None, obj))
    return changes


FEED_KINDS = {"created": "case.created", "event": "case.event", "rating": "rating.created"}


def _feed_payload(change: Change, links: dict[int, list[dict]]) -> dict:
    case = change.case
    if case.id not in links:
        links[case.id] = links_of(case.id)
    payload = {"case": case_view(case, links[case.id], citizen=False)}
    if change.event is not None:
        payload["change"] = change_view(change.event)
    if change.rating is not None:
        payload["rating"] = rating_view(change.rating)
    return payload


def _take(session: Session, count: int) -> int:
    """Reserve ``count`` cursors; returns the last one. Holds the counter row's lock until the commit."""
    bump = sa.update(COUNTER).where(COUNTER.c.id == 1).values(last=COUNTER.c.last + count).returning(COUNTER.c.last)
    last = session.execute(bump).scalar()
    if last is None:  # a database built without the migration's row (metadata.create_all)
        module = postgresql if session.get_bind().dialect.name == "postgresql" else sa.dialects.sqlite
        session.execute(module.insert(COUNTER).values(id=1, last=0, exported=0).on_conflict_do_nothing())
        last = session.execute(bump).scalar_one()
    return last


@sa_event.listens_for(Session, "before_commit")
def _write(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a SAVEPOINT is released, not the transaction
    changes = collect(session)
    if not changes:
        return
    now = datetime.now(UTC)
    fan_out(changes, now)
    links: dict[int, list[dict]] = {}
    rows = [
        {"kind": FEED_KINDS[c.kind], "case_id": c.case.id, "payload": _feed_payload(c, links), "created_at": now}
        for c in changes
    ]
    session.flush()  # the deliveries' rows first: the counter's lock is the last one taken
    cursor = _take(session, len(rows)) - len(rows)
    for row in rows:
        cursor += 1
        row["id"] = cursor
    session.execute(sa.insert(ROWS), rows)


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(KEY, None)

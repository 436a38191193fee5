"""The console event log (table ``console_events``): every Socket.IO event with its cursor, for catching up.

Writing. ``publish()`` (hotline/realtime/publish.py) queues its events with :func:`log_events`; just before the
transaction commits, :func:`_assign_cursors` gives them their cursors and inserts them, in that transaction: the
log is also the transactional outbox of the socket events (a change that commits has its events logged; a
rollback drops both). After the commit they are emitted with ``cursor`` = their id.

Ordering. A client that has read every event up to cursor N must never see a later commit add an event at or
below N. Ids from a sequence or an autoincrement do not give that on PostgreSQL: they are handed out at insert
time, so a transaction that took id 10 may commit after another one's 11 has been read. Here cursors are handed
out by one counter row (``console_cursor``): ``UPDATE … SET last = last + n RETURNING last`` is the last statement
before COMMIT, and its row lock is held until the commit is done, so the transaction that takes the next numbers
waits until the previous one has committed: cursor order is commit order, and ``last`` as read by anyone is a
point up to which every event is committed and visible. (A rolled-back transaction undoes its ``last`` too, so
the cursors are even dense.) The lock is taken after the change's own rows are flushed and nothing else is
locked after it, so it cannot deadlock; it serialises only the commit of transactions that publish. SQLite
serialises every writer anyway (BEGIN IMMEDIATE), and the same statements keep the same guarantee there.

Reading. :func:`changes` returns the events after a cursor that a user's rooms would have received live
(:func:`rooms_for`: ``user:<id>``, ``role:<role>``, ``department:<code>`` — events of a unit are published to
its superiors' rooms too), oldest first, with ``next`` (where to continue) and ``reset`` (events the client may
have missed were already deleted by the retention job, :func:`prune`).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import Flask, g, request
from flask_login import current_user
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from hotline.db.transactions import after_commit, queued
from hotline.extensions import db
from hotline.models import Case, ConsoleCursor, ConsoleEvent
from hotline.models.types import utcnow

EVENTS = ConsoleEvent.__table__
COUNTER = ConsoleCursor.__table__
LIMIT = 500  # events per page of GET /console/changes (the documented default and maximum)
# the old per-case fields of GET /console/changes items (before every event kind was logged), kept for clients
# that read them: for events that carry no status/version, the case's current ones
LEGACY_ACTIONS = {"case.created": "create", "rating.poor": "rating_poor"}


class Pending:
    """Events of one ``publish()`` call waiting for the commit: (payload, rooms) each, cursors once assigned.
    Compared by identity, so after_commit never merges two calls with equal payloads."""

    __slots__ = ("cursors", "emit", "event", "items")

    def __init__(self, event: str, items: list[tuple[dict, list[str]]], emit):
        self.event, self.items, self.emit, self.cursors = event, items, emit, []


def log_events(event: str, items: list[tuple[dict, list[str]]], emit) -> None:
    """Log ``items`` of ``event`` in the current transaction; after the commit call ``emit(event, items)`` with
    each payload's ``cursor`` set."""
    if not db.session().in_transaction():
        db.session.connection()  # the events belong to a transaction: a rollback before any write drops them too
    after_commit(_deliver, Pending(event, items, emit))


def _deliver(pending: Pending) -> None:
    if len(pending.cursors) != len(pending.items):
        return  # committed without passing through _assign_cursors (cannot happen with db.session): not logged
    items = [
        ({**payload, "cursor": cursor}, rooms)
        for (payload, rooms), cursor in zip(pending.items, pending.cursors, strict=True)
    ]
    pending.emit(pending.event, items)


@sa_event.listens_for(Session, "before_commit")
def _assign_cursors(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a SAVEPOINT is released, not the transaction
    batches = [args[0] for args in queued(session, _deliver) if not args[0].cursors]
    count = sum(len(p.items) for p in batches)
    if not count:
        return
    session.flush()  # the change's own rows (and their locks) first: the counter's lock is the last one taken
    cursor = _take(session, count) - count
    now = utcnow()
    rows = []
    for pending in batches:
        for payload, rooms in pending.items:
            cursor += 1
            pending.cursors.append(cursor)
            rows.append({"id": cursor, "kind": pending.event, "rooms": rooms, "payload": payload, "created_at": now})
    session.execute(sa.insert(EVENTS), rows)


def _take(session: Session, count: int) -> int:
    """Reserve ``count`` cursors; returns the last one. Holds the counter row's lock until the commit."""
    bump = sa.update(COUNTER).where(COUNTER.c.id == 1).values(last=COUNTER.c.last + count).returning(COUNTER.c.last)
    last = session.execute(bump).scalar()
    if last is None:  # a database built without the migration's row (metadata.create_all)
        module = postgresql if session.get_bind().dialect.name == "postgresql" else sa.dialects.sqlite
        session.execute(module.insert(COUNTER).values(id=1, last=0, pruned=0).on_conflict_do_nothing())
        last = session.execute(bump).scalar_one()
    return last


def head() -> int:
    """The highest cursor committed: every event up to it is visible now and no later commit goes below it."""
    return db.session.scalar(sa.select(COUNTER.c.last).where(COUNTER.c.id == 1)) or 0


def rooms_for(user) -> list[str]:
    """The rooms a console socket of ``user`` joins — and so the events it may catch up on."""
    rooms = [f"user:{user.id}", f"role:{user.role}"]
    if user.department is not None:
        rooms.append(f"department:{user.department.code}")
    return rooms


def _in_rooms(rooms: list[str]):
    if db.session.get_bind().dialect.name == "postgresql":
        wanted = sa.cast(postgresql.array(rooms), postgresql.ARRAY(sa.Text))
        return EVENTS.c.rooms.op("?|", is_comparison=True)(wanted)
    each = sa.func.json_each(EVENTS.c.rooms).table_valued("value")
    return sa.exists(sa.select(sa.literal(1)).select_from(each).where(each.c.value.in_(rooms)))


def changes(rooms: list[str], since: int, limit: int = LIMIT) -> dict:
    """The events after ``since`` for ``rooms``, oldest first: the body of GET /api/v1/console/changes."""
    state = db.session.execute(sa.select(COUNTER.c.last, COUNTER.c.pruned).where(COUNTER.c.id == 1)).first()
    last, pruned = (state.last, state.pruned) if state else (0, 0)
    rows = db.session.execute(
        sa.select(EVENTS.c.id, EVENTS.c.kind, EVENTS.c.payload, EVENTS.c.created_at)
        .where(EVENTS.c.id > since, EVENTS.c.id <= last, _in_rooms(rooms))
        .order_by(EVENTS.c.id)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    # with nothing more to read the client continues from `last`, past the events of rooms it is not in
    following = rows[-1].id if more else last
    items = _items(rows)
    return {
        "items": items,
        "cursor": following,  # the name before `next` (same value)
        "next": following,
        "more": more,
        "head": last,
        # events the client may have missed were deleted (older than the retention), or it is ahead of this
        # database (restored from a backup): it should reload what it shows, and continue from `next`
        "reset": since > last or since < pruned,
    }


def _items(rows) -> list[dict]:
    numbers = {r.payload.get("number") or r.payload.get("case_number") for r in rows} - {None}
    current = {}
    if numbers:
        current = {
            n: (s, v)
            for n, s, v in db.session.execute(
                sa.select(Case.number, Case.status, Case.version).where(Case.number.in_(numbers))
            )
        }
    items = []
    for row in rows:
        payload = {**row.payload, "cursor": row.id}
        number = payload.get("number") or payload.get("case_number")
        status, version = current.get(number, (None, None))
        items.append(
            {
                "cursor": row.id,
                "event": row.kind,
                "data": payload,
                "at": row.created_at.isoformat(),
                "action": payload.get("action") or _legacy_action(row.kind, payload),
                "number": number,
                "status": payload.get("status", status),
                "version": payload.get("version", version),
                "department_code": payload.get("department_code"),
            }
        )
    return items


def _legacy_action(kind: str, payload: dict) -> str:
    if kind == "sla.card":
        return f"{payload.get('level')}_card"
    return LEGACY_ACTIONS.get(kind, kind)


def prune(before: datetime) -> int:
    """Delete the events logged before ``before``; returns how many. Idempotent (two schedulers are fine)."""
    top = db.session.scalar(sa.select(sa.func.max(EVENTS.c.id)).where(EVENTS.c.created_at < before))
    if top is None:
        return 0
    deleted = db.session.execute(sa.delete(EVENTS).where(EVENTS.c.id <= top)).rowcount
    # last statement before the job's commit: it locks the counter row, so publishers wait only for the commit
    db.session.execute(sa.update(COUNTER).where(COUNTER.c.id == 1, COUNTER.c.pruned < top).values(pruned=top))
    return deleted


def init_app(app: Flask) -> None:
    """Staff pages start their live client at the cursor read before the page's data (no gap between the two):
    ``{{ console_cursor() }}`` in templates/base.html."""

    @app.before_request
    def _page_cursor():
        page = request.method == "GET" and request.blueprint != "api" and request.endpoint != "static"
        if page and current_user.is_authenticated:
            g.console_cursor = _head_or_zero()

    @app.context_processor
    def _cursor_global():
        return {"console_cursor": lambda: g.get("console_cursor") or _head_or_zero()}


def _head_or_zero() -> int:
    """head(), or 0 (the client then starts from the head the server reports) when the database cannot answer:
    the 503 page renders the same layout."""
    try:
        return head()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return 0

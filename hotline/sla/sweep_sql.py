"""The statements of one card-sweep batch (hotline/sla/sweeper.py): claim, cards, timeline events — set-based.

The candidate cards, the cards and their events are INSERT … SELECT: no row of them is built in Python. On
PostgreSQL the whole batch is ONE statement (data-modifying CTEs: claim → cards → events → what the sweeper
needs to notify and publish); SQLite, which has no data-modifying CTEs, runs the same SELECTs as four statements
chained by id lists. Both return ``(claimed, cards)``: a NewCard per card written, in event order.
"""

from __future__ import annotations

import functools
import operator
import re
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from hotline.db.sqlfuncs import json_object, least, local_minute, utc_iso
from hotline.extensions import db
from hotline.models import Assignment, Case, CaseEvent, Department, SlaCard, SlaTimer
from hotline.models.types import UTCDateTime
from hotline.sla import timers
from hotline.sla.clock import MILESTONES

ACTOR = "系统（时限监控）"
MILESTONE_LABELS = {"sign": "签收", "contact": "首次联系", "reply": "答复"}
NOTES = {
    "yellow": "工单 {number} {what}时限已用去80%（黄牌），截止 {due}，请抓紧办理",
    "red": "工单 {number} {what}已超时（红牌），时限 {due}，承办单位：{unit}",
}

A = Assignment.__table__.c
C = SlaCard.__table__.c
E = CaseEvent.__table__.c
T = SlaTimer.__table__.c
CASES, UNITS = Case.__table__, Department.__table__
WATCHED = [
    "id",
    "case_id",
    "department_id",
    "status",
    "paused_at",
    *[timers.DONE_AT[m] for m in MILESTONES],
    *[f"{kind}_{m}{suffix}" for m in MILESTONES for kind, suffix in (("deadline", ""), ("yellow", "_at"))],
]
CARD_COLS = ["case_id", "assignment_id", "department_id", "milestone", "level", "due_at", "created_at"]
EVENT_COLS = [
    "case_id",
    "action",
    "from_status",
    "to_status",
    "actor_label",
    "department_id",
    "note",
    "data",
    "created_at",
]


class NewCard(NamedTuple):
    """A card the batch wrote (a plain tuple: the sweeper reads thousands, and sa.Row attributes are slow)."""

    cursor: int  # its timeline event
    case_id: int
    department_id: int
    card_id: int
    milestone: str
    level: str
    due_iso: str
    note: str
    number: str


def _at(now: datetime):
    return sa.bindparam("sweep_now", now, type_=UTCDateTime())


def next_instant(now: datetime):
    """SQL for an assignment's next yellow/red instant after ``now`` (NULL when nothing is left to watch);
    the same rule as timers.rearm, minus the instants already handled."""
    at = _at(now)
    per_milestone = [
        sa.case(
            (A[timers.DONE_AT[m]].is_not(None), None),
            (A[f"yellow_{m}_at"] > at, A[f"yellow_{m}_at"]),
            (A[f"deadline_{m}"] > at, A[f"deadline_{m}"]),
            else_=None,
        )
        for m in MILESTONES
    ]
    return sa.case(
        (A.status.not_in(timers.ACTIVE), None), (A.paused_at.is_not(None), None), else_=least(*per_milestone)
    )


def _due(now: datetime, limit: int):
    return (
        sa.select(T.assignment_id)
        .where(T.next_card_at <= now)
        .order_by(T.next_card_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def candidates(src, now: datetime):
    """The cards ``src`` (claimed assignments: the columns of WATCHED) owes at ``now``: per open milestone of an
    active, unpaused assignment, red once the deadline passed, else yellow once its 80 % instant passed —
    a milestone first seen past its deadline gets only the red card."""
    ms = sa.union_all(*[sa.select(sa.literal(m, sa.String).label("milestone")) for m in MILESTONES]).subquery("ms")

    def pick(columns: dict[str, str]):  # the column of the row's milestone
        return sa.case({m: src[columns[m]] for m in MILESTONES}, value=ms.c.milestone)

    due, yellow = pick({m: f"deadline_{m}" for m in MILESTONES}), pick({m: f"yellow_{m}_at" for m in MILESTONES})
    done, at = pick(timers.DONE_AT), _at(now)
    return (
        sa.select(
            src.case_id, src.id, src.department_id, ms.c.milestone, sa.case((due <= at, "red"), else_="yellow"), due, at
        )
        .join_from(src.id.table, ms, sa.true())
        .where(src.status.in_(timers.ACTIVE), src.paused_at.is_(None), done.is_(None), sa.or_(due <= at, yellow <= at))
    )


def _text(template: str, **parts) -> sa.ColumnElement:
    """``template``'s ``{name}`` slots filled with SQL expressions, concatenated with ``||``."""
    pieces = re.split(r"\{(\w+)\}", template)
    return functools.reduce(
        operator.add, [parts[p] if i % 2 else sa.literal(p, sa.String) for i, p in enumerate(pieces) if p or i % 2]
    )


def events(cards, now: datetime, zone: str):
    """The timeline event of each card in ``cards`` (columns id, case_id, department_id, milestone, level,
    due_at): the note the unit reads, and the card in ``data``."""
    case, unit = CASES.c, UNITS.c
    parts = {
        "number": case.number,
        "what": sa.case(MILESTONE_LABELS, value=cards.milestone),
        "due": local_minute(cards.due_at, sa.literal(zone, sa.String)),
        "unit": unit.name,
    }
    note = sa.case((cards.level == "yellow", _text(NOTES["yellow"], **parts)), else_=_text(NOTES["red"], **parts))
    data = json_object(
        "card_id", cards.id, "milestone", cards.milestone, "level", cards.level, "due_at", utc_iso(cards.due_at)
    )
    return (
        sa.select(
            cards.case_id,
            cards.level + "_card",
            case.status,
            case.status,
            sa.literal(ACTOR, sa.String),
            cards.department_id,
            note,
            data,
            _at(now),
        )
        .join_from(cards.id.table, CASES, case.id == cards.case_id)
        .join(UNITS, unit.id == cards.department_id)
    )


def _result(event):
    """One row per card, what the sweeper notifies and publishes: the event's columns (``_event_returning``) and
    the case number. (Joining the cards CTE instead would be a nested loop of two CTE scans.)"""
    return sa.select(*event.c, CASES.c.number).join_from(event, CASES, CASES.c.id == event.c.case_id)


def _event_returning():
    card = E.data
    return (
        E.id.label("cursor"),
        E.case_id,
        E.department_id,
        card["card_id"].as_integer().label("card_id"),
        card["milestone"].as_string().label("milestone"),
        card["level"].as_string().label("level"),
        card["due_at"].as_string().label("due_iso"),
        E.note,
    )


def batch_postgresql(now: datetime, limit: int, zone: str) -> tuple[int, list[NewCard]]:
    """The batch as one statement. Claim: ``next_card_at`` moves to the next instant for up to ``limit`` due timers
    (``FOR UPDATE SKIP LOCKED``: a second sweeper skips them), returning the assignments' watched columns; cards
    ``ON CONFLICT DO NOTHING``: only those really inserted get an event. ``= ANY(ARRAY(subquery))`` keeps the
    planner on primary keys (with IN it may hash-join against a scan of the whole table). When nothing is due, a
    one-row probe of the index answers (planning the whole statement costs more than that)."""
    if (
        db.session.execute(
            sa.select(T.next_card_at).where(T.next_card_at <= now).order_by(T.next_card_at).limit(1)
        ).first()
        is None
    ):  # ordered: always the index (unordered, it may scan the table)
        return 0, []
    claimed = (
        sa.update(SlaTimer.__table__)
        .where(T.assignment_id == sa.any_(sa.func.array(_due(now, limit).scalar_subquery())), A.id == T.assignment_id)
        .values(next_card_at=next_instant(now))
        .returning(*[A[c] for c in WATCHED])
        .cte("claimed")
    )
    cards = (
        postgresql.insert(SlaCard.__table__)
        .from_select(CARD_COLS, candidates(claimed.c, now))
        .on_conflict_do_nothing(index_elements=["assignment_id", "milestone", "level"])
        .returning(C.id, C.case_id, C.department_id, C.milestone, C.level, C.due_at)
        .cte("cards")
    )
    event = (
        postgresql.insert(CaseEvent.__table__)
        .from_select(EVENT_COLS, events(cards.c, now, zone))
        .returning(*_event_returning())
        .cte("events")
    )
    count = sa.select(sa.func.count().label("claimed")).select_from(claimed).subquery("n")
    result = _result(event).subquery("r")
    rows = db.session.execute(
        sa.select(count.c.claimed, *result.c).select_from(count.outerjoin(result, sa.true())).order_by(result.c.cursor)
    ).all()
    return rows[0][0], [NewCard(*card) for _claimed, *card in rows if card[0] is not None]


def batch_sqlite(now: datetime, limit: int, zone: str) -> tuple[int, list[NewCard]]:
    """The same batch in four statements (SQLite serialises writers: BEGIN IMMEDIATE)."""
    following = sa.select(next_instant(now)).where(A.id == T.assignment_id).scalar_subquery()
    ids = (
        db.session.execute(
            sa.update(SlaTimer.__table__)
            .where(T.assignment_id.in_(_due(now, limit).scalar_subquery()))
            .values(next_card_at=following)
            .returning(T.assignment_id)
        )
        .scalars()
        .all()
    )
    if not ids:
        return 0, []
    card_ids = (
        db.session.execute(
            sqlite.insert(SlaCard.__table__)
            .from_select(CARD_COLS, candidates(A, now).where(A.id.in_(ids)))
            .on_conflict_do_nothing(index_elements=["assignment_id", "milestone", "level"])
            .returning(C.id)
        )
        .scalars()
        .all()
    )
    if not card_ids:
        return len(ids), []
    event_ids = (
        db.session.execute(
            sa.insert(CaseEvent.__table__)
            .from_select(EVENT_COLS, events(C, now, zone).where(C.id.in_(card_ids)))
            .returning(E.id)
        )
        .scalars()
        .all()
    )
    event = sa.select(*_event_returning()).where(E.id.in_(event_ids)).subquery("events")
    return len(ids), [NewCard(*r) for r in db.session.execute(_result(event).order_by(event.c.cursor))]

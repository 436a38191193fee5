"""The SLA sweeper: yellow/red cards and escalations for whatever crossed a threshold — set-based, idempotent.

``sweep_cards(now)`` handles one batch:

1. claim — ``UPDATE sla_timers SET next_card_at = <the assignment's next instant after now> WHERE
   assignment_id IN (SELECT … WHERE next_card_at <= :now ORDER BY next_card_at LIMIT :n FOR UPDATE SKIP
   LOCKED) RETURNING assignment_id``: an index range scan, so the cost follows what is due, not the number
   of open cases; then one read of the claimed assignments. Moving ``next_card_at`` past ``now`` is what
   makes the rows invisible to the next sweep; on PostgreSQL a second sweeper running at the same moment
   skips the locked rows instead of waiting (SQLite serialises writers with BEGIN IMMEDIATE).
2. cards — for every open milestone of a claimed row whose deadline (red) or 80 % instant (yellow) has
   passed: ``INSERT … ON CONFLICT (assignment_id, milestone, level) DO NOTHING RETURNING``. Only the rows
   really inserted go on, so a re-run, a re-armed timer or a second scheduler never doubles a card.
   A milestone first seen past its deadline gets only the red card.
3. for each new card: a timeline event, notices through the outbox (the unit; red cards also the
   monitors; a summary per recipient when one batch cards many) and ``sla.card`` to the unit's rooms and
   ``role:monitor`` after commit. Bulk statements (hotline/dbbulk.py), so a batch costs a few round trips.

``sweep_escalations(now)`` claims red cards whose ``escalate_at`` (deadline + 5 working days) passed the
same way; when the milestone is still open and its current deadline is 5 working days gone, the
assignment escalates once (``escalated_at IS NULL`` guard) to the unit's superior (street → district,
district → city): an event and notices to the superior unit and the supervisors.

Both flush and never commit: the job (workers/jobs/sla.py) commits after every batch.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from hotline.cases import deadlines, timers
from hotline.cases.sla import MILESTONES
from hotline.dbbulk import insert_returning
from hotline.extensions import db
from hotline.models import Assignment, Case, CaseEvent, Department, SlaCard, SlaTimer
from hotline.models.types import UTCDateTime
from hotline.notify import notify_many
from hotline.realtime.publish import department_rooms, publish, publish_many

BATCH = 5000
ACTOR = "系统（时限监控）"
MILESTONE_LABELS = {"sign": "签收", "contact": "首次联系", "reply": "答复"}
LEVEL_LABELS = {"yellow": "黄牌", "red": "红牌"}
PAUSED_RECHECK = timedelta(hours=1)
SUMMARY_OVER, SUMMARY_LIST = 5, 10  # more new cards than this for one recipient in a batch: one summary notice

A = Assignment.__table__.c
C = SlaCard.__table__.c
T = SlaTimer.__table__.c


class CaseRef(NamedTuple):
    number: str
    status: str


@dataclass
class Batch:
    claimed: int = 0
    cards: list[dict] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)


class least(FunctionElement):
    """LEAST(a, b, …) ignoring NULLs (NULL when all are): PostgreSQL's LEAST; SQLite's scalar MIN() over
    COALESCEd values (it would return NULL as soon as one argument is NULL)."""

    name = "least"
    type = UTCDateTime()
    inherit_cache = True


@compiles(least)
def _least(element, compiler, **kw):
    return f"LEAST({compiler.process(element.clauses, **kw)})"


@compiles(least, "sqlite")
def _least_sqlite(element, compiler, **kw):
    never = "'9999-12-31 23:59:59.999999'"  # SQLite stores datetimes as sortable text
    args = ", ".join(f"COALESCE({compiler.process(c, **kw)}, {never})" for c in element.clauses)
    return f"NULLIF(MIN({args}), {never})"


def next_instant(now: datetime):
    """SQL for an assignment's next yellow/red instant after ``now`` (NULL when nothing is left to watch);
    the same rule as timers.rearm, minus the instants already handled."""
    at = sa.bindparam("sweep_now", now, type_=UTCDateTime())
    per_milestone = [
        sa.case((A[timers.DONE_AT[m]].is_not(None), None), (A[f"yellow_{m}_at"] > at, A[f"yellow_{m}_at"]),
                (A[f"deadline_{m}"] > at, A[f"deadline_{m}"]), else_=None)
        for m in MILESTONES
    ]
    return sa.case((A.status.not_in(timers.ACTIVE), None), (A.paused_at.is_not(None), None),
                   else_=least(*per_milestone))


def _among(column, ids):
    """``column IN (subquery)``; on PostgreSQL ``= ANY(ARRAY(subquery))``, which keeps the planner on the primary
    key (with IN it may hash-join against a sequential scan of the whole table: a cost that grows with open cases)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.func.array(ids.scalar_subquery()))
    return column.in_(ids.scalar_subquery())


def _listed(column, ids: list[int]):
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam("claimed_ids", ids, type_=postgresql.ARRAY(sa.Integer)))
    return column.in_(ids)


def _claim(now: datetime, limit: int):
    """Claim a batch of due timers (moving each to its next instant), then read the claimed assignments:
    rows carry naive-UTC instants (no per-value conversion) and ``*_done``/``paused`` flags."""
    due = (sa.select(T.assignment_id).where(T.next_card_at <= now).order_by(T.next_card_at).limit(limit)
           .with_for_update(skip_locked=True))
    following = sa.select(next_instant(now)).where(A.id == T.assignment_id).scalar_subquery()
    ids = db.session.execute(sa.update(SlaTimer.__table__).where(_among(T.assignment_id, due))
                             .values(next_card_at=following).returning(T.assignment_id)).scalars().all()
    if not ids:
        return []
    case = Case.__table__.c
    cols = [A.id, A.case_id, A.department_id, A.status, A.paused_at.is_not(None).label("paused"),
            case.number, case.status.label("case_status")]
    for m in MILESTONES:
        cols += [A[timers.DONE_AT[m]].is_not(None).label(f"{m}_done"),
                 sa.type_coerce(A[f"deadline_{m}"], sa.DateTime()).label(f"deadline_{m}"),
                 sa.type_coerce(A[f"yellow_{m}_at"], sa.DateTime()).label(f"yellow_{m}_at")]
    return db.session.execute(sa.select(*cols).join_from(Assignment.__table__, Case.__table__, case.id == A.case_id)
                              .where(_listed(A.id, ids))).all()


def _candidates(rows, now: datetime) -> list[dict]:
    cal = None
    out = []
    naive_now = now.astimezone(UTC).replace(tzinfo=None)
    for row in rows:
        if row.status not in timers.ACTIVE or row.paused:
            continue
        for m in MILESTONES:
            if getattr(row, f"{m}_done"):
                continue
            due, yellow = getattr(row, f"deadline_{m}"), getattr(row, f"yellow_{m}_at")
            if due is not None and due <= naive_now:
                cal = cal or deadlines.calendar()
                level, escalate = "red", timers.escalate_at(due.replace(tzinfo=UTC), cal)
            elif yellow is not None and yellow <= naive_now:
                level, escalate = "yellow", None
            else:
                continue
            out.append({"case_id": row.case_id, "assignment_id": row.id, "department_id": row.department_id,
                        "milestone": m, "level": level, "due_at": due.replace(tzinfo=UTC), "escalate_at": escalate,
                        "created_at": now})
    return out


def _departments() -> dict[int, sa.Row]:
    rows = db.session.execute(sa.select(Department.id, Department.code, Department.name, Department.path,
                                        Department.parent_id))
    return {r.id: r for r in rows}


def _card_text(number: str, card, units: dict, zone: ZoneInfo) -> str:
    what = MILESTONE_LABELS[card.milestone]
    due = card.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if card.level == "yellow":
        return f"工单 {number} {what}时限已用去80%（黄牌），截止 {due}，请抓紧办理"
    return f"工单 {number} {what}已超时（红牌），时限 {due}，承办单位：{units[card.department_id].name}"


def sweep_cards(now: datetime, limit: int = BATCH) -> Batch:
    """One batch of the card sweep (see the module docstring); returns what it claimed and carded."""
    rows = _claim(now, limit)
    batch = Batch(claimed=len(rows))
    cards = insert_returning(SlaCard.__table__, _candidates(rows, now),
                             ["id", "case_id", "department_id", "milestone", "level", "due_at"],
                             conflict=["assignment_id", "milestone", "level"])
    if not cards:
        return batch
    cases = {r.case_id: CaseRef(r.number, r.case_status) for r in rows}
    units = _departments()
    zone = ZoneInfo(current_app.config["HOTLINE"].timezone)
    texts = {c.id: _card_text(cases[c.case_id].number, c, units, zone) for c in cards}
    due_iso = {c.id: c.due_at.isoformat() for c in cards}
    events = insert_returning(CaseEvent.__table__, [
        {"case_id": c.case_id, "action": f"{c.level}_card", "from_status": cases[c.case_id].status,
         "to_status": cases[c.case_id].status, "actor_label": ACTOR, "department_id": c.department_id,
         "note": texts[c.id], "data": {"card_id": c.id, "milestone": c.milestone, "level": c.level,
                                       "due_at": due_iso[c.id]}, "created_at": now} for c in cards],
        ["id", "data"])
    cursor = {e.data["card_id"]: e.id for e in events}
    messages, rooms = [], {d: [*department_rooms(u), "role:monitor"] for d, u in units.items()}
    for card in cards:
        messages.append(({"number": cases[card.case_id].number, "level": card.level, "limit": card.milestone,
                          "due_at": due_iso[card.id], "department_code": units[card.department_id].code,
                          "cursor": cursor[card.id]}, rooms[card.department_id]))
        batch.cards.append({"id": card.id, "number": cases[card.case_id].number, "milestone": card.milestone,
                            "level": card.level})
    notify_many(_notices(cards, cases, units, texts))
    publish_many("sla.card", messages)
    return batch


def _notices(cards, cases, units, texts) -> list[tuple[str, str, int | None]]:
    """One notice per card for the unit (red cards also for the monitors) — or, when a sweep cards many at once,
    one summary per unit and level, so nobody gets hundreds of notices in a minute."""
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for card in cards:
        groups[(f"department:{card.department_id}", card.level)].append(card)
        if card.level == "red":
            groups[("role:monitor", "red")].append(card)
    out = []
    for (recipient, level), group in groups.items():
        if len(group) <= SUMMARY_OVER:
            out += [(recipient, texts[c.id], c.case_id) for c in group]
            continue
        numbers = "、".join(cases[c.case_id].number for c in group[:SUMMARY_LIST])
        who = units[group[0].department_id].name if recipient.startswith("department:") else "各承办单位"
        more = f"等{len(group)}件" if len(group) > SUMMARY_LIST else ""
        out.append((recipient, f"{who}新增{len(group)}件{LEVEL_LABELS[level]}工单：{numbers}{more}，请尽快办理", None))
    return out


def _claim_escalations(now: datetime, limit: int):
    due = (sa.select(C.id).where(C.escalate_at <= now).order_by(C.escalate_at).limit(limit)
           .with_for_update(skip_locked=True))
    stmt = (sa.update(SlaCard.__table__).where(_among(C.id, due)).values(escalate_at=None)
            .returning(C.id, C.assignment_id, C.milestone))
    return db.session.execute(stmt).all()


def sweep_escalations(now: datetime, limit: int = BATCH) -> Batch:
    """One batch of the escalation check (red cards 5 working days old, milestone still open)."""
    from hotline.cases.operations import record

    claimed = _claim_escalations(now, limit)
    batch = Batch(claimed=len(claimed))
    cal = deadlines.calendar()
    for card_id, assignment_id, milestone in claimed:
        a = db.session.get(Assignment, assignment_id)
        if a.status not in timers.ACTIVE or getattr(a, timers.DONE_AT[milestone]) is not None:
            continue  # resolved (or no longer this unit's): nothing to escalate
        when = now + PAUSED_RECHECK if a.paused_at else timers.escalate_at(getattr(a, f"deadline_{milestone}"), cal)
        if when > now:  # paused, or the deadline moved (extension, resume): look again then
            db.session.execute(sa.update(SlaCard).where(SlaCard.id == card_id).values(escalate_at=when))
            continue
        superior = a.department.parent
        done = db.session.execute(
            sa.update(Assignment.__table__).where(A.id == a.id, A.escalated_at.is_(None))
            .values(escalated_at=now, escalated_to_id=superior.id if superior else None).returning(A.id)).first()
        if done is None:
            continue  # escalated already (another red card of this assignment, or another sweeper)
        _escalate(a, milestone, superior, now, record)
        batch.escalated.append(a.id)
    return batch


def _escalate(a: Assignment, milestone: str, superior: Department | None, now: datetime, record) -> None:
    case = a.case
    what = MILESTONE_LABELS[milestone]
    if superior is not None:
        note = f"{a.department.name}{what}红牌满5个工作日仍未办理，已升级至上级单位{superior.name}督办"
    else:
        note = f"{a.department.name}{what}红牌满5个工作日仍未办理（无上级单位），请督办员跟进"
    event = record(case, "escalate", None, case.status, case.status, note=note, department=superior or a.department,
                   data={"milestone": milestone, "from_department": a.department.code,
                         "to_department": superior.code if superior else None}, actor_label=ACTOR)
    event.created_at = now
    notices = [("role:supervisor", f"工单 {case.number}：{note}", case.id)]
    if superior is not None:
        notices.insert(0, (f"department:{superior.id}", f"工单 {case.number}：{note}", case.id))
    notify_many(notices)
    db.session.flush()
    lead = case.lead_department
    publish("case.updated", {"number": case.number, "status": case.status, "version": case.version,
                             "action": "escalate", "department_code": lead.code if lead else None,
                             "cursor": event.id},
            ["role:monitor", "role:supervisor", *department_rooms(superior or a.department)])

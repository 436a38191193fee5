"""The SLA sweeper: yellow/red cards and escalations for whatever crossed a threshold — set-based, idempotent.

``sweep_cards(now)`` handles one batch (statements in hotline/sla/sweep_sql.py):

1. claim — ``next_card_at`` of up to ``limit`` due timers (``next_card_at <= now``: an index range scan, so the
   cost follows what is due, not the number of open cases) moves to the assignment's next instant after
   ``now``, which makes the rows invisible to the next sweep; on PostgreSQL a second sweeper running at the
   same moment skips the locked rows instead of waiting (SQLite serialises writers with BEGIN IMMEDIATE).
2. cards — ``INSERT … SELECT`` for every open milestone of a claimed row whose deadline (red) or 80 % instant
   (yellow) has passed, ``ON CONFLICT (assignment_id, milestone, level) DO NOTHING``: only the rows really
   inserted go on, so a re-run, a re-armed timer or a second scheduler never doubles a card. A milestone first
   seen past its deadline gets only the red card.
3. events — ``INSERT … SELECT`` of one timeline event per new card, its note written by the database.
   On PostgreSQL 1–3 are one statement.
4. in Python, per batch: red cards get ``escalate_at`` (the working calendar), notices go through the outbox
   (the unit; red cards also the monitors; a summary per recipient when one batch cards many), and an
   ``sla.card`` message per card (docs/api.md's contract) to the unit's rooms and ``role:monitor`` after commit,
   pipelined to Redis (``publish_many``).

``sweep_escalations(now)`` claims red cards whose ``escalate_at`` (deadline + 5 working days) passed the
same way; when the milestone is still open and its current deadline is 5 working days gone, the
assignment escalates once (``escalated_at IS NULL`` guard) to the unit's superior (street → district,
district → city): an event and notices to the superior unit and the supervisors.

Both flush and never commit: the job (workers/jobs/sla.py) commits after every batch.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from hotline.cases.timeline import record
from hotline.channels.notify import notify_many
from hotline.db.bulk import update_rows
from hotline.db.dialect import is_postgres
from hotline.extensions import db
from hotline.models import Assignment, Department, SlaCard
from hotline.realtime.publish import department_rooms, publish, publish_many
from hotline.sla import deadlines, sweep_sql, timers
from hotline.sla.sweep_sql import ACTOR, MILESTONE_LABELS

BATCH = 5000
LEVEL_LABELS = {"yellow": "黄牌", "red": "红牌"}
PAUSED_RECHECK = timedelta(hours=1)
SUMMARY_OVER, SUMMARY_LIST = 5, 10  # more new cards than this for one recipient in a batch: one summary notice

A = Assignment.__table__.c
C = SlaCard.__table__.c


@dataclass
class Batch:
    claimed: int = 0
    cards: list[sweep_sql.NewCard] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)


def _departments() -> dict[int, sa.Row]:
    rows = db.session.execute(
        sa.select(Department.id, Department.code, Department.name, Department.path, Department.parent_id)
    )
    return {r.id: r for r in rows}


def sweep_cards(now: datetime, limit: int = BATCH) -> Batch:
    """One batch of the card sweep (see the module docstring); returns what it claimed and carded."""
    zone = current_app.config["HOTLINE"].timezone
    claimed, cards = (sweep_sql.batch_postgresql if is_postgres() else sweep_sql.batch_sqlite)(now, limit, zone)
    batch = Batch(claimed=claimed, cards=cards)
    if not cards:
        return batch
    reds = [c for c in cards if c.level == "red"]
    if reds:
        cal = deadlines.calendar()
        update_rows(
            SlaCard.__table__,
            [
                {"id": c.card_id, "escalate_at": timers.escalate_at(datetime.fromisoformat(c.due_iso), cal)}
                for c in reds
            ],
        )
    units = _departments()
    notify_many(_notices(cards, units))
    publish_many("sla.card", _messages(cards, units))
    return batch


def _messages(cards, units) -> list[tuple[dict, list[str]]]:
    """``sla.card`` per card (in cursor order), to the carded unit's rooms and role:monitor."""
    out = []
    for department_id, group in _per_unit(cards).items():
        unit = units[department_id]
        rooms = [*department_rooms(unit), "role:monitor"]
        out += [
            (
                {
                    "number": c.number,
                    "level": c.level,
                    "limit": c.milestone,
                    "due_at": c.due_iso,
                    "department_code": unit.code,
                    "cursor": c.cursor,
                },
                rooms,
            )
            for c in group
        ]
    return out


def _per_unit(cards) -> dict[int, list]:
    groups: dict[int, list] = defaultdict(list)
    for card in cards:
        groups[card.department_id].append(card)
    return groups


def _notices(cards, units) -> list[tuple[str, str, int | None]]:
    """One notice per card for the unit (red cards also for the monitors) — or, when a sweep cards many at once,
    one summary per unit and level, so nobody gets hundreds of notices in a minute."""
    groups: list[tuple[str, str, list]] = []
    for department_id, group in _per_unit(cards).items():
        for level in LEVEL_LABELS:
            if chosen := [c for c in group if c.level == level]:
                groups.append((f"department:{department_id}", level, chosen))
    if reds := [c for c in cards if c.level == "red"]:
        groups.append(("role:monitor", "red", reds))
    out = []
    for recipient, level, group in groups:
        if len(group) <= SUMMARY_OVER:
            out += [(recipient, c.note, c.case_id) for c in group]
            continue
        numbers = "、".join(c.number for c in group[:SUMMARY_LIST])
        who = units[group[0].department_id].name if recipient.startswith("department:") else "各承办单位"
        more = f"等{len(group)}件" if len(group) > SUMMARY_LIST else ""
        out.append((recipient, f"{who}新增{len(group)}件{LEVEL_LABELS[level]}工单：{numbers}{more}，请尽快办理", None))
    return out


def _among(column, ids):
    """``column IN (subquery)``; on PostgreSQL ``= ANY(ARRAY(subquery))``, which keeps the planner on the primary
    key (with IN it may hash-join against a sequential scan of the whole table: a cost that grows with the table)."""
    if is_postgres():
        return column == sa.any_(sa.func.array(ids.scalar_subquery()))
    return column.in_(ids.scalar_subquery())


def _claim_escalations(now: datetime, limit: int):
    due = (
        sa.select(C.id)
        .where(C.escalate_at <= now)
        .order_by(C.escalate_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        sa.update(SlaCard.__table__)
        .where(_among(C.id, due))
        .values(escalate_at=None)
        .returning(C.id, C.assignment_id, C.milestone)
    )
    return db.session.execute(stmt).all()


def sweep_escalations(now: datetime, limit: int = BATCH) -> Batch:
    """One batch of the escalation check (red cards 5 working days old, milestone still open)."""
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
            sa.update(Assignment.__table__)
            .where(A.id == a.id, A.escalated_at.is_(None))
            .values(escalated_at=now, escalated_to_id=superior.id if superior else None)
            .returning(A.id)
        ).first()
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
    event = record(
        case,
        "escalate",
        None,
        case.status,
        case.status,
        note=note,
        department=superior or a.department,
        data={
            "milestone": milestone,
            "from_department": a.department.code,
            "to_department": superior.code if superior else None,
        },
        actor_label=ACTOR,
    )
    event.created_at = now
    notices = [("role:supervisor", f"工单 {case.number}：{note}", case.id)]
    if superior is not None:
        notices.insert(0, (f"department:{superior.id}", f"工单 {case.number}：{note}", case.id))
    notify_many(notices)
    db.session.flush()
    lead = case.lead_department
    publish(
        "case.updated",
        {
            "number": case.number,
            "status": case.status,
            "version": case.version,
            "action": "escalate",
            "department_code": lead.code if lead else None,
            "cursor": event.id,
        },
        ["role:monitor", "role:supervisor", *department_rooms(superior or a.department)],
    )

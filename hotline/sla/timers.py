"""SLA timers of one assignment: its deadlines, the instants 80 % of each limit is used, and ``next_card_at``.

Everything is computed with the pure math of ``sla.py`` from three stored facts: the start
(``assigned_at``), the limits in force (``sla_limits``: the policy when the case was dispatched plus
approved extensions — a later policy change does not move running deadlines) and the closed pauses.
Operations call ``plan`` when the clock moves (dispatch, extension approval, resume) and ``rearm``
when a milestone closes or the assignment changes state. ``next_card_at`` is the earliest yellow or red
instant of a still open milestone (NULL while paused or when the assignment is no longer active): the
sweeper looks only at rows whose ``next_card_at`` has passed, and moves it on to the next instant.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from hotline.cases.workflow import AssignmentState
from hotline.extensions import db
from hotline.models import Assignment, SlaPause
from hotline.sla import clock as sla
from hotline.sla import deadlines

DONE_AT = {"sign": "signed_at", "contact": "contacted_at", "reply": "replied_at"}
ACTIVE = (AssignmentState.PENDING.value, AssignmentState.SIGNED.value)
ESCALATE_AFTER_WORK_DAYS = 5


def snapshot(limits: dict[str, sla.Limit]) -> dict:
    return {m: {"amount": lim.amount, "unit": lim.unit} for m, lim in limits.items()}


def limits_of(a: Assignment) -> dict[str, sla.Limit]:
    if a.sla_limits:
        return {m: sla.Limit(float(v["amount"]), v["unit"]) for m, v in a.sla_limits.items()}
    return deadlines.case_limits(a.case)


def extended(limit: sla.Limit, days: int, cal: sla.WorkCalendar) -> sla.Limit:
    """``limit`` plus ``days`` days in the limit's own time: working days for working-time limits
    (a day of office time for work_hours), 24 h per day for clock limits."""
    per_day = {"work_days": 1.0, "natural_days": 1.0, "clock_hours": 24.0, "work_hours": cal.office_seconds / 3600}
    return sla.Limit(limit.amount + days * per_day[limit.unit], limit.unit)


def closed_pauses(a: Assignment) -> list[tuple[datetime, datetime]]:
    if a.id is None:
        return []
    rows = db.session.execute(
        sa.select(SlaPause.started_at, SlaPause.ended_at)
        .where(SlaPause.assignment_id == a.id, SlaPause.ended_at.is_not(None))
        .order_by(SlaPause.started_at)
    ).all()
    return [(b, e) for b, e in rows]


def open_milestones(a: Assignment) -> list[str]:
    return [m for m in sla.MILESTONES if getattr(a, DONE_AT[m]) is None]


def plan(a: Assignment, milestones: list[str] | None = None) -> None:
    """(Re)compute deadlines and yellow instants of ``milestones`` (default: the open ones), then rearm.
    A lead assignment's deadlines are copied to its case."""
    cal = deadlines.calendar()
    limits = limits_of(a)
    if a.sla_limits is None:
        a.sla_limits = snapshot(limits)
    pauses = closed_pauses(a)
    for m in open_milestones(a) if milestones is None else milestones:
        limit = limits[m]
        setattr(a, f"deadline_{m}", sla.deadline(a.assigned_at, limit, cal, pauses))
        yellow = sla.Limit(limit.amount * sla.YELLOW_AT, limit.unit)
        setattr(a, f"yellow_{m}_at", sla.deadline(a.assigned_at, yellow, cal, pauses))
    rearm(a)
    case = a.case
    if a.role == "lead" and case is not None and case.lead_assignment() is a:
        case.deadline_sign, case.deadline_contact, case.deadline_reply = (
            a.deadline_sign,
            a.deadline_contact,
            a.deadline_reply,
        )


def rearm(a: Assignment) -> None:
    """Point ``next_card_at`` at the earliest yellow/red instant of an open milestone. It may lie in the
    past: the sweeper then writes what is missing (cards already written are skipped) and moves on."""
    if a.status not in ACTIVE or a.paused_at is not None:
        a.next_card_at = None
        return
    instants = [getattr(a, name) for m in open_milestones(a) for name in (f"yellow_{m}_at", f"deadline_{m}")]
    a.next_card_at = min((t for t in instants if t is not None), default=None)


def escalate_at(due: datetime, cal: sla.WorkCalendar) -> datetime:
    """When a red card still unresolved goes to the superior unit: ``due`` + 5 working days of office time."""
    return sla.add_work_minutes(due, ESCALATE_AFTER_WORK_DAYS * cal.office_seconds / 60, cal)

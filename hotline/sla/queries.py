"""What the monitor wall and the department portal read about time limits: per-unit counters, open red cards,
and the colour of each assignment's milestones (from its cards and stored 80 % instants)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.cases.workflow import AssignmentState
from hotline.extensions import db
from hotline.models import Assignment, Case, Department, SlaCard
from hotline.sla.timers import ACTIVE

RED_LIST_LIMIT = 100


def _milestone_open():
    """SQL: the card's milestone is still open on its assignment."""
    return sa.or_(
        sa.and_(SlaCard.milestone == "sign", Assignment.signed_at.is_(None)),
        sa.and_(SlaCard.milestone == "contact", Assignment.contacted_at.is_(None)),
        sa.and_(SlaCard.milestone == "reply", Assignment.replied_at.is_(None)),
    )


def unit_counters(day_start: datetime, day_end: datetime) -> list[dict]:
    """Per unit with open work: open assignments, due today (the next open deadline falls today), and
    assignments whose worst open card is yellow / red. Sorted red, yellow, open — worst first."""
    active = Assignment.status.in_(ACTIVE)
    rows: dict[int, dict] = defaultdict(lambda: {"open": 0, "due_today": 0, "yellow": 0, "red": 0})
    for dept_id, count in db.session.execute(
        sa.select(Assignment.department_id, sa.func.count()).where(active).group_by(Assignment.department_id)
    ):
        rows[dept_id]["open"] = count
    next_due = sa.case(
        (Assignment.status == AssignmentState.PENDING.value, Assignment.deadline_sign), else_=Assignment.deadline_reply
    )
    for dept_id, count in db.session.execute(
        sa.select(Assignment.department_id, sa.func.count())
        .where(active, next_due >= day_start, next_due < day_end)
        .group_by(Assignment.department_id)
    ):
        rows[dept_id]["due_today"] = count
    worst: dict[int, tuple[int, str]] = {}
    for assignment_id, dept_id, level in db.session.execute(
        sa.select(SlaCard.assignment_id, Assignment.department_id, SlaCard.level)
        .distinct()
        .join(Assignment, Assignment.id == SlaCard.assignment_id)
        .where(active, _milestone_open())
    ):
        if worst.get(assignment_id, (0, ""))[1] != "red":
            worst[assignment_id] = (dept_id, level)
    for dept_id, level in worst.values():
        rows[dept_id][level] += 1
    units = {
        r.id: r
        for r in db.session.execute(
            sa.select(Department.id, Department.name, Department.code).where(Department.id.in_(list(rows)))
        )
    }
    out = [{"department_id": d, "name": units[d].name, "code": units[d].code, **c} for d, c in rows.items()]
    return sorted(out, key=lambda r: (-r["red"], -r["yellow"], -r["open"], r["code"]))


def open_red_cards(limit: int = RED_LIST_LIMIT) -> list[tuple[SlaCard, Case, Assignment]]:
    """Red cards on milestones still open, most overdue first."""
    query = (
        sa.select(SlaCard, Case, Assignment)
        .join(Assignment, Assignment.id == SlaCard.assignment_id)
        .join(Case, Case.id == SlaCard.case_id)
        .where(SlaCard.level == "red", Assignment.status.in_(ACTIVE), _milestone_open())
        .options(so.lazyload(Case.events), so.lazyload(Case.assignments))
        .order_by(SlaCard.due_at)
        .limit(limit)
    )
    return [tuple(r) for r in db.session.execute(query)]


def milestone_levels(assignments: list[Assignment], now: datetime) -> dict[tuple[int, str], str]:
    """(assignment id, milestone) -> "red" | "yellow" | "ok" for the open milestones: a card decides; before the
    sweeper's next pass the stored instants do (the same thresholds, so the colour never lags)."""
    ids = [a.id for a in assignments]
    cards: dict[tuple[int, str], str] = {}
    if ids:
        for aid, milestone, level in db.session.execute(
            sa.select(SlaCard.assignment_id, SlaCard.milestone, SlaCard.level).where(SlaCard.assignment_id.in_(ids))
        ):
            if cards.get((aid, milestone)) != "red":
                cards[(aid, milestone)] = level
    out = {}
    for a in assignments:
        for m in ("sign", "contact", "reply"):
            level = cards.get((a.id, m), "ok")
            due, yellow = getattr(a, f"deadline_{m}"), getattr(a, f"yellow_{m}_at")
            if a.paused_at is None and level != "red" and due is not None and now >= due:
                level = "red"
            elif a.paused_at is None and level == "ok" and yellow is not None and now >= yellow:
                level = "yellow"
            out[(a.id, m)] = level
    return out

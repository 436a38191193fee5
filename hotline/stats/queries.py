"""The counts behind the assessment rates, per unit and period: one grouped statement per source table.

Every statement is a range scan on an indexed instant (assignments.assigned_at, case_events (action, created_at),
sla_extensions.decided_at, sla_cards.created_at, ratings.created_at) grouped by unit, so the cost follows the
period's activity, not the size of the history.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Assignment, Case, CaseEvent, Department, Rating, SlaCard, SlaExtension
from hotline.stats.metrics import UnitCounts


def _on_time(done, due):
    return sa.and_(done.is_not(None), sa.or_(due.is_(None), done <= due))


def _count_if(condition):
    return sa.func.sum(sa.case((condition, 1), else_=0))


def unit_counts(start: datetime, end: datetime, units: list[int] | None) -> dict[int, UnitCounts]:
    """Counts per unit id for the half-open period [start, end); ``units`` limits the units (None: all)."""
    out: dict[int, UnitCounts] = {}

    def get(unit_id: int) -> UnitCounts:
        return out.setdefault(unit_id, UnitCounts())

    def scoped(query, column):
        return query.where(column.in_(units)) if units is not None else query

    a = Assignment
    responded = sa.and_(_on_time(a.signed_at, a.deadline_sign), _on_time(a.contacted_at, a.deadline_contact))
    rows = db.session.execute(
        scoped(
            sa.select(
                a.department_id,
                sa.func.count(),
                _count_if(responded),
                _count_if(_on_time(a.replied_at, a.deadline_reply)),
            )
            .where(a.role == "lead", a.assigned_at >= start, a.assigned_at < end)
            .group_by(a.department_id),
            a.department_id,
        )
    )
    for unit_id, dispatched, responded, on_time in rows:
        c = get(unit_id)
        c.dispatched, c.responded, c.replied_on_time = dispatched, int(responded or 0), int(on_time or 0)

    e = CaseEvent
    rows = db.session.execute(
        scoped(
            sa.select(e.department_id, e.action, sa.func.count())
            .where(
                e.action.in_(("return", "reject_return")),
                e.created_at >= start,
                e.created_at < end,
                e.department_id.is_not(None),
            )
            .group_by(e.department_id, e.action),
            e.department_id,
        )
    )
    for unit_id, action, n in rows:
        if action == "return":
            get(unit_id).returns = n
        else:
            get(unit_id).improper_returns = n

    rows = db.session.execute(
        scoped(
            sa.select(Case.lead_department_id, sa.func.count())
            .select_from(e)
            .join(Case, Case.id == e.case_id)
            .where(
                e.action == "reopen", e.created_at >= start, e.created_at < end, Case.lead_department_id.is_not(None)
            )
            .group_by(Case.lead_department_id),
            Case.lead_department_id,
        )
    )
    for unit_id, n in rows:
        get(unit_id).reopened = n

    x = SlaExtension
    rows = db.session.execute(
        scoped(
            sa.select(x.department_id, sa.func.count())
            .where(x.status == "approved", x.decided_at >= start, x.decided_at < end)
            .group_by(x.department_id),
            x.department_id,
        )
    )
    for unit_id, n in rows:
        get(unit_id).extensions = n

    k = SlaCard
    rows = db.session.execute(
        scoped(
            sa.select(k.department_id, k.level, sa.func.count())
            .where(k.created_at >= start, k.created_at < end)
            .group_by(k.department_id, k.level),
            k.department_id,
        )
    )
    for unit_id, level, n in rows:
        setattr(get(unit_id), f"{level}_cards", n)

    r = Rating
    rows = db.session.execute(
        scoped(
            sa.select(r.department_id, r.score, r.resolved, sa.func.count())
            .where(r.excluded.is_(False), r.created_at >= start, r.created_at < end, r.department_id.is_not(None))
            .group_by(r.department_id, r.score, r.resolved),
            r.department_id,
        )
    )
    for unit_id, score, resolved, n in rows:
        c = get(unit_id)
        c.scores[score] = c.scores.get(score, 0) + n
        if resolved is not None:
            c.resolved_answered += n
            c.resolved_yes += n if resolved else 0
    return out


def units_in_scope(scope: Department | None) -> dict[int, sa.Row]:
    """id -> (code, name, kind) of the active units a viewer may assess (a unit sees itself and its sub-units)."""
    query = sa.select(Department.id, Department.code, Department.name, Department.kind)
    if scope is not None:
        query = query.where(Department.path.startswith(scope.path))
    return {row.id: row for row in db.session.execute(query)}

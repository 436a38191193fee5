"""The time-limit parts of a case's JSON: ``cards[]`` and the pauses, extensions and supervisions."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Case, Department, SlaCard, SlaExtension, SlaPause, Supervision


def _iso(dt):
    return dt.isoformat() if dt else None


def cards(case: Case) -> list[dict]:
    if not case.assignments:  # cards belong to assignments: a case never dispatched has none (no query)
        return []
    rows = db.session.execute(
        sa.select(SlaCard, Department.code)
        .join(Department, Department.id == SlaCard.department_id)
        .where(SlaCard.case_id == case.id)
        .order_by(SlaCard.id)
    )
    return [
        {
            "milestone": c.milestone,
            "level": c.level,
            "due_at": _iso(c.due_at),
            "created_at": _iso(c.created_at),
            "department_code": code,
        }
        for c, code in rows
    ]


def supervision(case: Case) -> dict:
    if not case.assignments:  # pauses, extensions and orders all belong to an assignment
        return {"pauses": [], "extensions": [], "supervisions": []}
    codes = {a.id: a.department.code for a in case.assignments}
    pauses = db.session.scalars(sa.select(SlaPause).where(SlaPause.case_id == case.id).order_by(SlaPause.id))
    extensions = db.session.scalars(
        sa.select(SlaExtension).where(SlaExtension.case_id == case.id).order_by(SlaExtension.id)
    )
    orders = db.session.scalars(sa.select(Supervision).where(Supervision.case_id == case.id).order_by(Supervision.id))
    return {
        "pauses": [
            {
                "department_code": codes.get(p.assignment_id),
                "reason": p.reason,
                "started_at": _iso(p.started_at),
                "ended_at": _iso(p.ended_at),
            }
            for p in pauses
        ],
        "extensions": [
            {
                "department_code": codes.get(e.assignment_id),
                "days": e.days,
                "reason": e.reason,
                "status": e.status,
                "requested_at": _iso(e.requested_at),
                "decided_at": _iso(e.decided_at),
                "decision_note": e.decision_note,
                "old_due": _iso(e.old_due),
                "new_due": _iso(e.new_due),
            }
            for e in extensions
        ],
        "supervisions": [
            {
                "department_code": codes.get(s.assignment_id),
                "level": s.level,
                "note": s.note,
                "created_at": _iso(s.created_at),
                "acknowledged_at": _iso(s.acknowledged_at),
                "ack_note": s.ack_note,
            }
            for s in orders
        ],
    }

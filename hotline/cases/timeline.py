"""The case timeline: the one writer of CaseEvent rows and the ``case.updated`` publication.

A leaf: operations of every package (cases, sla, dispatch, ratings) write their events here, and it imports no
operation module. The timeline is the audit trail and is never edited.
"""

from __future__ import annotations

import sqlalchemy as sa

from hotline.cases.workflow import ACTION_LABELS, CaseState
from hotline.extensions import db
from hotline.models import Case, CaseEvent, Department, User
from hotline.models.routing import CaseDupKey
from hotline.realtime.publish import department_rooms, publish


def label_of(actor: User | None, fallback: str = "系统") -> str:
    return f"{actor.name}（{actor.role_label}）" if actor else fallback


def record(
    case: Case,
    action: str,
    actor: User | None,
    before: str | None,
    after: str | None,
    *,
    note: str = "",
    department: Department | None = None,
    data: dict | None = None,
    actor_label: str | None = None,
) -> CaseEvent:
    """Write one timeline event and publish ``case.updated`` after commit."""
    event = CaseEvent(
        case=case,
        action=action,
        from_status=before,
        to_status=after,
        actor=actor,
        actor_label=actor_label or label_of(actor),
        department=department,
        note=note,
        data=data or {},
    )
    db.session.add(event)
    if after in (CaseState.CLOSED, CaseState.MERGED) and before != after and case.id is not None:
        # no longer a duplicate candidate (并单): its keys go with the state change
        db.session.execute(sa.delete(CaseDupKey).where(CaseDupKey.case_id == case.id))
    return event


def _rooms(case: Case) -> list[str]:
    rooms = ["role:agent", "role:dispatcher", "role:monitor", "role:supervisor"]
    for a in case.assignments:
        rooms += department_rooms(a.department)
    if case.created_by_id:
        rooms.append(f"user:{case.created_by_id}")
    return rooms


def publish_update(case: Case, action: str) -> None:
    db.session.flush()
    lead = case.lead_department
    publish(
        "case.updated",
        {
            "number": case.number,
            "status": case.status,
            "version": case.version,
            "action": action,
            "department_code": lead.code if lead else None,
            "cursor": case.events[-1].id,
        },
        _rooms(case),
    )


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)

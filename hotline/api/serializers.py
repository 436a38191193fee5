"""JSON shapes of the API (masked personal data unless the viewer needs it)."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.api import sla_blocks
from hotline.auth.permissions import sees_personal_data
from hotline.cases.workflow import STATE_LABELS, CaseState
from hotline.citizens.privacy import mask_name
from hotline.citizens.profile import citizen_name
from hotline.evidence.serialize import case_evidence
from hotline.extensions import db
from hotline.models import Assignment, Case, CaseEvent, Rating, User


def _iso(dt):
    return dt.isoformat() if dt else None


def event_to_dict(event: CaseEvent) -> dict:
    return {
        "id": event.id,
        "action": event.action,
        "from": event.from_status,
        "to": event.to_status,
        "actor": event.actor.username if event.actor else None,
        "actor_label": event.actor_label,
        "department_code": event.department.code if event.department else None,
        "note": event.note,
        "data": event.data or {},
        "at": _iso(event.created_at),
    }


def assignment_to_dict(a: Assignment) -> dict:
    return {
        "department_code": a.department.code,
        "department_name": a.department.name,
        "role": a.role,
        "status": a.status,
        "assigned_at": _iso(a.assigned_at),
        "signed_at": _iso(a.signed_at),
        "contacted_at": _iso(a.contacted_at),
        "replied_at": _iso(a.replied_at),
        "deadlines": {
            "sign": _iso(a.deadline_sign),
            "contact": _iso(a.deadline_contact),
            "reply": _iso(a.deadline_reply),
        },
        "reply": a.reply_content,
        "result": a.reply_result,
        "return_reason": a.return_reason,
    }


def citizen_block(case: Case, viewer: User | None) -> dict | None:
    if viewer is not None and not sees_personal_data(viewer, case) and case.confidential:
        return None  # 保密: the department never sees who reported
    name = citizen_name(case.citizen)
    return {"name": mask_name(name) if name else None, "phone": case.phone.masked}


def case_summary(case: Case) -> dict:
    lead = case.lead_department
    return {
        "number": case.number,
        "status": case.status,
        "status_label": STATE_LABELS.get(CaseState(case.status), case.status),
        "kind": case.kind,
        "channel": case.channel,
        "urgency": case.urgency,
        "title": case.title,
        "category": case.category.level1 if case.category else None,
        "category_path": case.category.path if case.category else None,
        "department_code": lead.code if lead else None,
        "department_name": lead.name if lead else None,
        "district_code": case.district.code if case.district else None,
        "confidential": case.confidential,
        "version": case.version,
        "deadlines": {
            "sign": _iso(case.deadline_sign),
            "contact": _iso(case.deadline_contact),
            "reply": _iso(case.deadline_reply),
        },
        "created_at": _iso(case.created_at),
        "closed_at": _iso(case.closed_at),
    }


def _ratings(case: Case) -> list[dict]:

    if case.status == CaseState.REGISTERED:  # never replied, so never rated: no query on the create path
        return []
    return [
        r.to_dict() for r in db.session.scalars(sa.select(Rating).where(Rating.case_id == case.id).order_by(Rating.id))
    ]


def case_to_dict(case: Case, viewer: User | None) -> dict:
    data = case_summary(case)
    data.update(
        {
            "content": case.content,
            "address": case.address,
            "call_id": case.call_id,
            "answer": case.answer,
            "answer_kb_id": case.answer_kb_id,
            "citizen": citizen_block(case, viewer),
            "cards": sla_blocks.cards(case),
            "ratings": _ratings(case),
            **sla_blocks.supervision(case),
            "events": [event_to_dict(e) for e in case.events],
            "assignments": [assignment_to_dict(a) for a in case.assignments],
            **case_evidence(case, viewer),  # location, attachments (hotline/evidence, issue 18)
        }
    )
    return data

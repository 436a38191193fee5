"""一号一档: the citizen file an agent sees when a call rings (cases, calls, ratings, records, flags)."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from hotline.cases.workflow import OPEN_STATES, STATE_LABELS, CaseState
from hotline.citizens.privacy import mask_name
from hotline.citizens.profile import citizen_name
from hotline.extensions import db
from hotline.models import Call, Case, Citizen, CitizenPhone, Department, ExternalRecord, Rating

CARE_TAGS = {"elderly": "老年人", "disabled": "残疾人", "special_care": "温暖特殊群体"}
RECENT = 10


def resolve(citizen: Citizen) -> Citizen:
    """Follow merges to the surviving file."""
    seen = set()
    while citizen.merged_into_id and citizen.id not in seen:
        seen.add(citizen.id)
        citizen = db.session.get(Citizen, citizen.merged_into_id)
    return citizen


def _case_row(row) -> dict:
    return {"number": row.number, "status": row.status,
            "status_label": STATE_LABELS.get(CaseState(row.status), row.status), "kind": row.kind,
            "title": row.title, "created_at": row.created_at.isoformat(), "department_code": row.department_code}


def _cases(citizen_id: int) -> tuple[list, list]:
    """Up to 20 open and RECENT past cases (newest first) in one round trip: plain columns, no ORM objects."""
    case, dept = Case.__table__.c, Department.__table__.c
    open_values = [s.value for s in OPEN_STATES]

    def arm(is_open: bool, limit: int):
        status = case.status.in_(open_values) if is_open else case.status.not_in(open_values)
        inner = (sa.select(case.id, case.number, case.status, case.kind, case.title, case.created_at,
                           dept.code.label("department_code"), sa.literal(is_open).label("is_open"))
                 .select_from(Case.__table__.outerjoin(Department.__table__, dept.id == case.lead_department_id))
                 .where(case.citizen_id == citizen_id, status).order_by(case.id.desc()).limit(limit).subquery())
        return sa.select(inner)

    rows = db.session.execute(sa.union_all(arm(True, 20), arm(False, RECENT))).all()
    rows = sorted(rows, key=lambda r: r.id, reverse=True)
    return [r for r in rows if r.is_open], [r for r in rows if not r.is_open]


def _counts(citizen_id: int, since: datetime) -> tuple[int, int]:
    """Poor ratings ever and contacts (cases + calls) since ``since``: one statement."""
    poor = (sa.select(sa.func.count()).select_from(Rating)
            .where(Rating.citizen_id == citizen_id, Rating.score <= 2).scalar_subquery())
    cases = (sa.select(sa.func.count()).select_from(Case)
             .where(Case.citizen_id == citizen_id, Case.created_at >= since).scalar_subquery())
    calls = (sa.select(sa.func.count()).select_from(Call)
             .where(Call.citizen_id == citizen_id, Call.created_at >= since).scalar_subquery())
    row = db.session.execute(sa.select(poor.label("poor"), cases.label("cases"), calls.label("calls"))).one()
    return row.poor, row.cases + row.calls


def file_summary(citizen: Citizen, now: datetime) -> dict:
    """The compact file pushed with ``call.ringing`` and returned by the look-up API (masked data only)."""
    settings = current_app.config["HOTLINE"]
    citizen = resolve(citizen)
    open_cases, past_cases = _cases(citizen.id)
    calls = db.session.scalars(sa.select(Call).where(Call.citizen_id == citizen.id)
                               .order_by(Call.id.desc()).limit(RECENT)).all()
    ratings = db.session.scalars(sa.select(Rating).where(Rating.citizen_id == citizen.id)
                                 .order_by(Rating.id.desc()).limit(RECENT)).all()
    records = db.session.scalars(sa.select(ExternalRecord).where(ExternalRecord.citizen_id == citizen.id)
                                 .order_by(ExternalRecord.id.desc()).limit(RECENT)).all()
    poor, contacts = _counts(citizen.id, now - timedelta(days=settings.repeat_caller_days))
    phones = db.session.scalars(sa.select(CitizenPhone).where(CitizenPhone.citizen_id == citizen.id)
                                .order_by(CitizenPhone.id)).all()
    tags = list(citizen.tags or [])
    return {
        "citizen_id": citizen.id,
        "name": mask_name(citizen_name(citizen)) or None,
        "phones": [{"phone": p.masked, "kind": p.kind} for p in phones],
        "tags": tags,
        "care": [CARE_TAGS[t] for t in tags if t in CARE_TAGS],
        "flags": {"repeat_caller": contacts >= settings.repeat_caller_contacts, "contacts_recent": contacts,
                  "poor_ratings": poor, "special_care": any(t in CARE_TAGS for t in tags)},
        "open_cases": [_case_row(c) for c in open_cases],
        "past_cases": [_case_row(c) for c in past_cases],
        "calls": [{"call_id": c.call_id, "status": c.status,
                   "at": (c.ringing_at or c.created_at).isoformat(), "duration_seconds": c.duration_seconds}
                  for c in calls],
        "ratings": [r.to_dict() for r in ratings],
        "records": [{"source": r.source, "ref": r.ref, "title": r.title, "status": r.status,
                     "occurred_at": r.occurred_at.isoformat() if r.occurred_at else None} for r in records],
    }

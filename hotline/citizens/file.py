"""一号一档: the citizen file an agent sees when a call rings (cases, calls, ratings, records, flags)."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from hotline.cases.workflow import OPEN_STATES, STATE_LABELS, CaseState
from hotline.citizens.privacy import mask_name
from hotline.citizens.profile import citizen_name
from hotline.extensions import db
from hotline.models import Call, Case, Citizen, CitizenPhone, ExternalRecord, Rating

CARE_TAGS = {"elderly": "老年人", "disabled": "残疾人", "special_care": "温暖特殊群体"}
RECENT = 10


def resolve(citizen: Citizen) -> Citizen:
    """Follow merges to the surviving file."""
    seen = set()
    while citizen.merged_into_id and citizen.id not in seen:
        seen.add(citizen.id)
        citizen = db.session.get(Citizen, citizen.merged_into_id)
    return citizen


def _case_row(case: Case) -> dict:
    return {"number": case.number, "status": case.status,
            "status_label": STATE_LABELS.get(CaseState(case.status), case.status), "kind": case.kind,
            "title": case.title, "created_at": case.created_at.isoformat(),
            "department_code": case.lead_department.code if case.lead_department else None}


def file_summary(citizen: Citizen, now: datetime) -> dict:
    """The compact file pushed with ``call.ringing`` and returned by the look-up API (masked data only)."""
    settings = current_app.config["HOTLINE"]
    citizen = resolve(citizen)
    # The summary reads no timelines or assignments: skip their selectin loads, join the lead unit.
    lean = (so.lazyload(Case.events), so.lazyload(Case.assignments), so.joinedload(Case.lead_department))
    open_cases = db.session.scalars(
        sa.select(Case).where(Case.citizen_id == citizen.id, Case.status.in_([s.value for s in OPEN_STATES]))
        .options(*lean).order_by(Case.id.desc()).limit(20)).all()
    past_cases = db.session.scalars(
        sa.select(Case).where(Case.citizen_id == citizen.id, Case.status.not_in([s.value for s in OPEN_STATES]))
        .options(*lean).order_by(Case.id.desc()).limit(RECENT)).all()
    calls = db.session.scalars(sa.select(Call).where(Call.citizen_id == citizen.id)
                               .order_by(Call.id.desc()).limit(RECENT)).all()
    ratings = db.session.scalars(sa.select(Rating).where(Rating.citizen_id == citizen.id)
                                 .order_by(Rating.id.desc()).limit(RECENT)).all()
    poor = db.session.scalar(sa.select(sa.func.count()).select_from(Rating)
                             .where(Rating.citizen_id == citizen.id, Rating.score <= 2))
    records = db.session.scalars(sa.select(ExternalRecord).where(ExternalRecord.citizen_id == citizen.id)
                                 .order_by(ExternalRecord.id.desc()).limit(RECENT)).all()
    since = now - timedelta(days=settings.repeat_caller_days)
    contacts = (db.session.scalar(sa.select(sa.func.count()).select_from(Case)
                                  .where(Case.citizen_id == citizen.id, Case.created_at >= since))
                + db.session.scalar(sa.select(sa.func.count()).select_from(Call)
                                    .where(Call.citizen_id == citizen.id, Call.created_at >= since)))
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

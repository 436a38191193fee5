"""一号一档: the citizen file an agent sees when a call rings (cases, calls, ratings, records, flags)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from hotline.cases.workflow import OPEN_STATES, STATE_LABELS, CaseState
from hotline.citizens import file_sql
from hotline.citizens.file_sql import OPEN_LIMIT, RECENT
from hotline.citizens.phones import Phone
from hotline.citizens.privacy import mask_name
from hotline.citizens.profile import cipher, find_phone, phone_hash
from hotline.db.dialect import is_postgres
from hotline.extensions import db
from hotline.models import Call, Case, Citizen, CitizenPhone, Department, ExternalRecord, Rating
from hotline.models.ratings import rating_dict

CARE_TAGS = {"elderly": "老年人", "disabled": "残疾人", "special_care": "温暖特殊群体"}


def resolve(citizen: Citizen) -> Citizen:
    """Follow merges to the surviving file."""
    seen = set()
    while citizen.merged_into_id and citizen.id not in seen:
        seen.add(citizen.id)
        citizen = db.session.get(Citizen, citizen.merged_into_id)
    return citizen


def _case_row(row) -> dict:
    return {
        "number": row["number"],
        "status": row["status"],
        "status_label": STATE_LABELS.get(CaseState(row["status"]), row["status"]),
        "kind": row["kind"],
        "title": row["title"],
        "created_at": row["created_at"].isoformat(),
        "department_code": row["department_code"],
    }


def _cases(citizen_id: int) -> tuple[list, list]:
    """Up to OPEN_LIMIT open and RECENT past cases (newest first) in one round trip: plain columns."""
    case, dept = Case.__table__.c, Department.__table__.c
    open_values = [s.value for s in OPEN_STATES]

    def arm(is_open: bool, limit: int):
        status = case.status.in_(open_values) if is_open else case.status.not_in(open_values)
        inner = (
            sa.select(
                case.id,
                case.number,
                case.status,
                case.kind,
                case.title,
                case.created_at,
                dept.code.label("department_code"),
                sa.literal(is_open).label("is_open"),
            )
            .select_from(Case.__table__.outerjoin(Department.__table__, dept.id == case.lead_department_id))
            .where(case.citizen_id == citizen_id, status)
            .order_by(case.id.desc())
            .limit(limit)
            .subquery()
        )
        return sa.select(inner)

    rows = db.session.execute(sa.union_all(arm(True, OPEN_LIMIT), arm(False, RECENT))).all()
    rows = sorted(rows, key=lambda r: r.id, reverse=True)
    return [r._mapping for r in rows if r.is_open], [r._mapping for r in rows if not r.is_open]


def _counts(citizen_id: int, since: datetime) -> tuple[int, int]:
    """Poor ratings ever and contacts (cases + calls) since ``since``: one statement."""
    poor = (
        sa.select(sa.func.count())
        .select_from(Rating)
        .where(Rating.citizen_id == citizen_id, Rating.score <= 2)
        .scalar_subquery()
    )
    cases = (
        sa.select(sa.func.count())
        .select_from(Case)
        .where(Case.citizen_id == citizen_id, Case.created_at >= since)
        .scalar_subquery()
    )
    calls = (
        sa.select(sa.func.count())
        .select_from(Call)
        .where(Call.citizen_id == citizen_id, Call.created_at >= since)
        .scalar_subquery()
    )
    row = db.session.execute(sa.select(poor.label("poor"), cases.label("cases"), calls.label("calls"))).one()
    return row.poor, row.cases + row.calls


def _parts(citizen_id: int, since: datetime) -> dict:
    """The portable path (any database): one query per part of the file."""
    open_cases, past_cases = _cases(citizen_id)
    calls = db.session.scalars(
        sa.select(Call).where(Call.citizen_id == citizen_id).order_by(Call.id.desc()).limit(RECENT)
    ).all()
    ratings = db.session.scalars(
        sa.select(Rating).where(Rating.citizen_id == citizen_id).order_by(Rating.id.desc()).limit(RECENT)
    ).all()
    records = db.session.scalars(
        sa.select(ExternalRecord)
        .where(ExternalRecord.citizen_id == citizen_id)
        .order_by(ExternalRecord.id.desc())
        .limit(RECENT)
    ).all()
    poor, contacts = _counts(citizen_id, since)
    phones = db.session.execute(
        sa.select(CitizenPhone.masked, CitizenPhone.kind)
        .where(CitizenPhone.citizen_id == citizen_id)
        .order_by(CitizenPhone.id)
    ).all()
    return {
        "phones": [{"phone": p.masked, "kind": p.kind} for p in phones],
        "open_cases": open_cases,
        "past_cases": past_cases,
        "calls": [
            {
                "call_id": c.call_id,
                "status": c.status,
                "at": c.ringing_at or c.created_at,
                "duration_seconds": c.duration_seconds,
            }
            for c in calls
        ],
        "ratings": ratings,
        "records": [
            {"source": r.source, "ref": r.ref, "title": r.title, "status": r.status, "occurred_at": r.occurred_at}
            for r in records
        ],
        "poor": poor,
        "contacts": contacts,
    }


def _since(now: datetime) -> datetime:
    return now - timedelta(days=current_app.config["HOTLINE"].repeat_caller_days)


def file_summary(citizen: Citizen, now: datetime) -> dict:
    """The compact file pushed with ``call.ringing`` and returned by the look-up API (masked data only)."""
    citizen = resolve(citizen)
    if is_postgres():
        row = file_sql.fetch(db.session, file_sql.BY_CITIZEN_ID, citizen.id, _since(now))
        return _summary(row.id, row.name_enc, row.tags, file_sql.parts(row))
    return _summary(citizen.id, citizen.name_enc, citizen.tags, _parts(citizen.id, _since(now)))


def lookup_file(phone: Phone, now: datetime) -> dict | None:
    """The file of the citizen this number belongs to (None: unknown number). On PostgreSQL one statement."""
    if not is_postgres():
        row = find_phone(phone)
        return file_summary(row.citizen, now) if row is not None else None
    row = file_sql.fetch(db.session, file_sql.BY_PHONE_HASH, phone_hash(phone), _since(now))
    if row is None:
        return None
    if row.merged_into_id is not None:  # a pointer left by a merge: the surviving file
        return file_summary(db.session.get(Citizen, row.id), now)
    return _summary(row.id, row.name_enc, row.tags, file_sql.parts(row))


def _summary(citizen_id: int, name_enc: str | None, tags: list | None, parts: dict) -> dict:
    settings = current_app.config["HOTLINE"]
    tags = list(tags or [])
    contacts = parts["contacts"]
    return {
        "citizen_id": citizen_id,
        "name": mask_name(cipher().decrypt(name_enc) if name_enc else None) or None,
        "phones": parts["phones"],
        "tags": tags,
        "care": [CARE_TAGS[t] for t in tags if t in CARE_TAGS],
        "flags": {
            "repeat_caller": contacts >= settings.repeat_caller_contacts,
            "contacts_recent": contacts,
            "poor_ratings": parts["poor"],
            "special_care": any(t in CARE_TAGS for t in tags),
        },
        "open_cases": [_case_row(c) for c in parts["open_cases"]],
        "past_cases": [_case_row(c) for c in parts["past_cases"]],
        "calls": [{**c, "at": c["at"].isoformat()} for c in parts["calls"]],
        "ratings": [rating_dict(r) for r in parts["ratings"]],
        "records": [
            {**r, "occurred_at": r["occurred_at"].isoformat() if r["occurred_at"] else None} for r in parts["records"]
        ],
    }

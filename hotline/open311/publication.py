"""What the public Open311 feed shows: which cases (``public_condition``) and how much of each (``request_items``).

A case is public when it is not confidential and either a supervisor published it (``case_publications``,
POST /api/v1/cases/N/publication), or it was submitted through Open311 itself (``open311_requests``, when
HOTLINE_OPEN311_PUBLISH_SUBMITTED is on — the default) and no supervisor withdrew it. Nothing else is public: a
phone call, a WeChat message or a portal form stays out of the feed unless the city chose it.

Of a public case the feed shows the text through ``redaction.redact`` (phones, ID numbers, plates, the names the
citizen gave, house numbers), the address cut to its street and coordinates rounded to about 100 m."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from hotline.cases.errors import RuleRefused
from hotline.cases.timeline import publish_update, record
from hotline.cases.workflow import OPEN_STATES
from hotline.citizens.profile import cipher, citizen_name
from hotline.errors import ApiError
from hotline.evidence import public_urls
from hotline.extensions import db
from hotline.models import Case, CasePublication, Category, Open311Request
from hotline.open311.redaction import coarse_coordinate, redact, street_level
from hotline.portal.status import citizen_status


def public_condition():
    """A SQL condition on Case: the cases the public feed may show."""
    chosen = sa.exists().where(CasePublication.case_id == Case.id, CasePublication.public.is_(True))
    condition = chosen
    if current_app.config["HOTLINE"].open311_publish_submitted:
        submitted = sa.exists().where(Open311Request.case_id == Case.id)
        withdrawn = sa.exists().where(CasePublication.case_id == Case.id, CasePublication.public.is_(False))
        condition = sa.or_(chosen, sa.and_(submitted, ~withdrawn))
    return sa.and_(Case.confidential.is_(False), condition)


def is_public(case: Case) -> bool:
    return bool(db.session.scalar(sa.select(sa.literal(True)).where(Case.id == case.id, public_condition())))


def public_query():
    """SELECT of the public cases, with what the feed reads of each loaded in a few statements."""
    return (
        sa.select(Case)
        .where(public_condition())
        .options(
            so.selectinload(Case.category),
            so.selectinload(Case.lead_department),
            so.selectinload(Case.citizen),
        )
    )


def public_case(number: str) -> Case:
    """The public case ``number``, else 404 (a confidential or unpublished case does not exist for the feed)."""
    case = (
        db.session.scalar(public_query().where(Case.number == number))
        if len(number) <= 32 and number.isascii() and number.isprintable()
        else None
    )
    if case is None:
        raise ApiError(404, "not_found", f"诉求 {number[:32]} 不存在或未公开")
    return case


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def _level2(category: Category | None, cache: dict) -> Category | None:
    if category is None or category.level < 2:
        return None
    path = "/".join(category.path.split("/")[:2])
    if path not in cache:
        cache[path] = (
            category if category.level == 2 else db.session.scalar(sa.select(Category).where(Category.path == path))
        )
    return cache[path]


def _submissions(cases: list[Case]) -> dict[int, Open311Request]:
    ids = [c.id for c in cases]
    if not ids:
        return {}
    rows = db.session.scalars(sa.select(Open311Request).where(Open311Request.case_id.in_(ids)))
    return {r.case_id: r for r in rows}


def _request_dict(case: Case, submitted: Open311Request | None, cache: dict, pictures: dict) -> dict:
    service = _level2(case.category, cache)
    status = citizen_status(case, current_app.config["HOTLINE"].timezone)
    names = [citizen_name(case.citizen) or ""]
    if submitted is not None and submitted.name_enc:
        names.append(cipher().decrypt(submitted.name_enc) or "")
    lead = case.lead_department
    return {
        "service_request_id": case.number,
        "status": "open" if case.status in OPEN_STATES else "closed",
        "status_notes": f"{status.label}：{status.meaning}",
        "service_name": service.name if service else None,
        "service_code": str(service.id) if service else None,
        "description": redact(case.content, names),
        "agency_responsible": lead.name if lead else None,
        "service_notice": redact(status.reply, names),
        "requested_datetime": iso(case.created_at),
        "updated_datetime": iso(
            case.closed_at if case.closed_at and case.status not in OPEN_STATES else case.updated_at
        ),
        "expected_datetime": iso(case.deadline_reply),
        "address": street_level(case.address),
        "address_id": None,
        "zipcode": None,
        "lat": coarse_coordinate(case.lat),
        "long": coarse_coordinate(case.lng),
        # the case's public thumbnail once the media job made it (hotline/evidence), else the URL as submitted
        "media_url": pictures.get(case.id) or (submitted.media_url if submitted is not None else None),
    }


def request_items(cases: list[Case]) -> list[dict]:
    """The feed's records of ``cases`` (already filtered by ``public_condition``)."""
    submitted = _submissions(cases)
    cache: dict = {}
    pictures = public_urls.thumbnails([c.id for c in cases])
    return [_request_dict(c, submitted.get(c.id), cache, pictures) for c in cases]


def publication_state(case: Case) -> dict:
    """Whether ``case`` is in the public feed and why: {public, source: supervisor|open311|None, changeable}."""
    if case.confidential:
        return {"number": case.number, "public": False, "source": None, "changeable": False}
    row = db.session.get(CasePublication, case.id)
    if row is not None:
        return {"number": case.number, "public": row.public, "source": "supervisor", "changeable": True}
    submitted = db.session.scalar(sa.select(sa.literal(True)).where(Open311Request.case_id == case.id))
    public = bool(submitted) and current_app.config["HOTLINE"].open311_publish_submitted
    return {"number": case.number, "public": public, "source": "open311" if public else None, "changeable": True}


def set_public(case: Case, actor, public: bool, note: str, now: datetime) -> dict:
    """A supervisor publishes ``case`` in the feed or withdraws it: the decision row and a timeline event
    (``publish`` / ``unpublish``). A confidential case is never published (422)."""
    if public and case.confidential:
        raise RuleRefused("confidential_case", "保密件（举报等）不得公开")
    row = db.session.get(CasePublication, case.id)
    if row is None:
        row = CasePublication(case_id=case.id)
        db.session.add(row)
    row.public, row.decided_by_id, row.decided_at = public, actor.id, now
    action = "publish" if public else "unpublish"
    words = "设为公开（Open311 公开接口，脱敏后显示）" if public else "取消公开（不在 Open311 公开接口显示）"
    record(case, action, actor, case.status, case.status, note=f"{words}{'：' + note if note else ''}")
    publish_update(case, action)
    return publication_state(case)

"""Changes to citizen files: add a phone, tags, external records, merge two files; unmask with audit."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from hotline import audit
from hotline.cases.errors import RuleRefused
from hotline.citizens.file import CARE_TAGS, resolve
from hotline.citizens.phones import Phone, mask
from hotline.citizens.profile import cipher, get_or_create, phone_hash, phone_number
from hotline.db.dialect import insert_ignore
from hotline.extensions import db
from hotline.models import (
    AuditLog,
    Call,
    Case,
    Citizen,
    CitizenEvent,
    CitizenPhone,
    ExternalRecord,
    Rating,
    RatingInvitation,
    User,
)


class CitizenRuleError(RuleRefused):
    """A rule of the citizen files refused the change (HTTP 422)."""


def add_phone(citizen: Citizen, phone: Phone, actor: User | None) -> CitizenPhone:
    existing = db.session.scalar(sa.select(CitizenPhone).where(CitizenPhone.phone_hash == phone_hash(phone)))
    if existing is not None and resolve(existing.citizen).id != citizen.id:
        raise CitizenRuleError("phone_in_other_file", "该号码已属于另一份市民档案，请使用“合并档案”")
    if existing is not None:
        return existing
    row = CitizenPhone(
        citizen_id=citizen.id,
        phone_hash=phone_hash(phone),
        phone_enc=cipher().encrypt(phone.key),
        masked=mask(phone.e164),
        kind=phone.kind,
    )
    db.session.add(row)
    db.session.add(
        CitizenEvent(citizen_id=citizen.id, action="phone_added", actor_id=actor.id if actor else None, note=row.masked)
    )
    return row


def set_tags(citizen: Citizen, tags: list[str], actor: User) -> None:
    unknown = [t for t in tags if t not in CARE_TAGS]
    if unknown:
        raise CitizenRuleError("unknown_tag", f"未知的标签：{'、'.join(unknown)}；可选：{'、'.join(CARE_TAGS)}")
    before = list(citizen.tags or [])
    citizen.tags = sorted(set(tags))
    db.session.add(
        CitizenEvent(
            citizen_id=citizen.id, action="tags_changed", actor_id=actor.id, data={"from": before, "to": citizen.tags}
        )
    )


def merge(source: Citizen, target: Citizen, actor: User, note: str = "") -> Citizen:
    """Move everything of ``source`` into ``target``; source stays as a pointer (merged_into)."""
    source, target = resolve(source), resolve(target)
    if source.id == target.id:
        raise CitizenRuleError("same_file", "两个号码已在同一份档案中")
    for model in (CitizenPhone, Case, Call, Rating, RatingInvitation, ExternalRecord):
        db.session.execute(sa.update(model).where(model.citizen_id == source.id).values(citizen_id=target.id))
    target.tags = sorted(set(target.tags or []) | set(source.tags or []))
    if not target.name_enc and source.name_enc:
        target.name_enc = source.name_enc
    source.merged_into_id = target.id
    for citizen, action, other in ((target, "merged_in", source), (source, "merged_into", target)):
        db.session.add(
            CitizenEvent(
                citizen_id=citizen.id, action=action, actor_id=actor.id, note=note, data={"other_citizen_id": other.id}
            )
        )
    db.session.flush()
    db.session.expire_all()
    return db.session.get(Citizen, target.id)


def add_record(
    phone: Phone, source: str, ref: str, title: str, status: str, occurred_at: datetime | None, data: dict
) -> tuple[ExternalRecord, bool]:
    """Store a record from another system for the number's file; the same (source, ref) again updates it."""
    citizen = resolve(get_or_create(phone).citizen)
    stmt = insert_ignore(ExternalRecord.__table__, ["source", "ref"]).values(
        citizen_id=citizen.id,
        source=source,
        ref=ref,
        title=title,
        status=status,
        occurred_at=occurred_at,
        data=data,
        created_at=datetime.now(UTC),
    )
    created = db.session.execute(stmt.returning(ExternalRecord.__table__.c.id)).scalar() is not None
    record = db.session.scalar(
        sa.select(ExternalRecord).where(ExternalRecord.source == source, ExternalRecord.ref == ref)
    )
    if not created:
        record.title, record.status, record.data = title, status, data
    return record, created


def unmask_phones(citizen: Citizen, actor: User, case: Case | None = None, *, ip: str = "") -> list[str]:
    """Full numbers of a file, for staff who must call back; every call is written to the audit log (with the
    client's address ``ip``, given by the view)."""
    phones = db.session.scalars(sa.select(CitizenPhone).where(CitizenPhone.citizen_id == citizen.id)).all()
    db.session.add(
        AuditLog(
            user_id=actor.id,
            action="unmask_phone",
            citizen_id=citizen.id,
            case_id=case.id if case else None,
            detail=f"{len(phones)} 个号码",
            ip=ip[:64],
        )
    )
    audit.record(
        actor,
        "citizen.unmask",
        "citizen",
        citizen.id,
        ip=ip,
        detail=f"{len(phones)} 个号码" + (f"，工单 {case.number}" if case else ""),
    )
    return [phone_number(p) for p in phones]

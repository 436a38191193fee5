"""Who a phone number belongs to: the surviving citizen file and the files merged into it (one person)."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.cases.errors import InvalidInput, NotFound
from hotline.citizens.file import resolve
from hotline.citizens.phones import PhoneError, normalize
from hotline.citizens.profile import find_phone
from hotline.extensions import db
from hotline.models import Case, Citizen, CitizenPhone


def files_of(citizen: Citizen) -> list[Citizen]:
    """The surviving file and every file merged into it, transitively."""
    master = resolve(citizen)
    out, todo = {master.id: master}, [master.id]
    while todo:
        merged = db.session.scalars(sa.select(Citizen).where(Citizen.merged_into_id.in_(todo))).all()
        todo = [c.id for c in merged if c.id not in out]
        out.update({c.id: c for c in merged})
    return list(out.values())


def by_phone(raw: str) -> list[Citizen]:
    """The person's files for a phone number typed by the admin; zh-CN NotFound when no file has it."""
    try:
        phone = normalize(raw)
    except PhoneError as err:
        raise InvalidInput("phone_invalid", err.message, {"phone": err.message}) from None
    row = find_phone(phone)
    if row is None:
        raise NotFound("citizen_not_found", "没有这个号码的市民档案（或已删除）")
    return files_of(db.session.get(Citizen, row.citizen_id))


def phones_of(ids: list[int]) -> list[CitizenPhone]:
    return list(db.session.scalars(sa.select(CitizenPhone).where(CitizenPhone.citizen_id.in_(ids))))


def cases_of(ids: list[int]) -> list[Case]:
    return list(db.session.scalars(sa.select(Case).where(Case.citizen_id.in_(ids)).order_by(Case.created_at)))

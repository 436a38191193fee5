"""The citizens a case answers for: its own caller and the callers of the cases merged into it (并单).

``merge`` moves the duplicate's citizens (its caller and whoever had been merged into it) onto the master,
so the master's reply and rating invitation reach all of them (``case_citizens``)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from hotline.db.dialect import insert_ignore
from hotline.extensions import db
from hotline.models import Case, CaseCitizen, Citizen, CitizenPhone


@dataclass(frozen=True)
class CaseCitizenRef:
    citizen: Citizen
    phone: CitizenPhone | None
    case_number: str  # the case the citizen called about (the master or a merged duplicate)


def _link(master: Case, citizen_id: int, phone_id: int | None, via: Case) -> None:
    if citizen_id == master.citizen_id:
        return
    db.session.execute(
        insert_ignore(CaseCitizen, ["case_id", "citizen_id"]).values(
            case_id=master.id,
            citizen_id=citizen_id,
            phone_id=phone_id,
            via_case_id=via.id,
            created_at=master.updated_at,
        )
    )


def move_citizens(duplicate: Case, master: Case) -> None:
    """Give the master the duplicate's caller and the citizens the duplicate already answered for."""
    _link(master, duplicate.citizen_id, duplicate.phone_id, duplicate)
    rows = db.session.execute(
        sa.select(CaseCitizen.citizen_id, CaseCitizen.phone_id, CaseCitizen.via_case_id).where(
            CaseCitizen.case_id == duplicate.id
        )
    ).all()
    for citizen_id, phone_id, via_id in rows:
        _link(master, citizen_id, phone_id, db.session.get(Case, via_id) or duplicate)


def case_citizens(master: Case) -> list[CaseCitizenRef]:
    """Every citizen the case answers for, its own caller first, each once (with the number they used)."""
    out = [CaseCitizenRef(master.citizen, master.phone, master.number)]
    rows = db.session.execute(
        sa.select(CaseCitizen, Case.number)
        .join(Case, Case.id == CaseCitizen.via_case_id)
        .where(CaseCitizen.case_id == master.id)
        .order_by(CaseCitizen.id)
    ).all()
    seen = {master.citizen_id}
    for link, number in rows:
        if link.citizen_id in seen:
            continue
        seen.add(link.citizen_id)
        phone = db.session.get(CitizenPhone, link.phone_id) if link.phone_id else None
        out.append(CaseCitizenRef(db.session.get(Citizen, link.citizen_id), phone, number))
    return out


def merged_cases(master: Case) -> list[Case]:
    """The cases merged into ``master`` (directly), oldest first."""
    return list(db.session.scalars(sa.select(Case).where(Case.merged_into_id == master.id).order_by(Case.id)))

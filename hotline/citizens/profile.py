"""一号一档: find or create the citizen file of a phone number (safe under concurrency)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from hotline.citizens.phones import Phone, mask, normalize
from hotline.citizens.privacy import DataCipher
from hotline.db.insert import attached, insert_loaded_pair, labelled, unprefixed
from hotline.extensions import db
from hotline.models import Citizen, CitizenPhone


def cipher() -> DataCipher:
    return current_app.extensions["hotline_cipher"]


def phone_hash(phone: Phone) -> str:
    return cipher().blind_index(phone.key)


@lru_cache(maxsize=1)
def _phone_by_hash():
    """Built once per process (on every registration's and look-up's path): Core columns, labelled p_/c_."""
    phones, citizens = CitizenPhone.__table__, Citizen.__table__
    return (
        sa.select(*labelled(phones, "p_"), *labelled(citizens, "c_"))
        .select_from(phones.join(citizens, citizens.c.id == phones.c.citizen_id))
        .where(phones.c.phone_hash == sa.bindparam("digest"))
    )


def _phone_row(digest: str) -> CitizenPhone | None:
    """The phone row with its citizen, attached to the session as loaded instances (``hotline.db.insert``)."""
    row = db.session.execute(_phone_by_hash(), {"digest": digest}).mappings().first()
    if row is None:
        return None
    citizen = attached(Citizen, unprefixed(row, "c_"))
    return attached(CitizenPhone, unprefixed(row, "p_"), citizen=citizen)


def find_phone(raw: str | Phone) -> CitizenPhone | None:
    return _phone_row(phone_hash(raw if isinstance(raw, Phone) else normalize(raw)))


def get_or_create(phone: Phone, name: str | None = None, now: datetime | None = None) -> CitizenPhone:
    """The phone row (and its citizen) for ``phone``; two concurrent callers both succeed.

    The phone's unique blind index decides the race: the loser's INSERT does nothing, its fresh
    citizen row is deleted again, and it uses the winner's file. New rows are written with one INSERT
    each, or both in one on PostgreSQL (``hotline.db.insert``): this is on every registration's path.
    """
    digest = phone_hash(phone)
    existing = _phone_row(digest)
    if existing is not None:
        if name and not existing.citizen.name_enc:
            existing.citizen.name_enc = cipher().encrypt(name)
        return existing
    now = now or datetime.now(UTC)
    citizen, inserted = insert_loaded_pair(
        Citizen(
            name_enc=cipher().encrypt(name) if name else None,
            tags=[],
            created_at=now,
            updated_at=now,
            merged_into_id=None,
        ),
        CitizenPhone(
            phone_hash=digest,
            phone_enc=cipher().encrypt(phone.key),
            masked=mask(phone.e164),
            kind=phone.kind,
            created_at=now,
        ),
        "citizen",
        parent_related={"phones": []},
        child_related={},
        child_on_conflict=["phone_hash"],
    )
    if inserted is None:  # another request registered the number first: use its file
        db.session.delete(citizen)
        db.session.flush()
        return _phone_row(digest)
    set_committed_value(citizen, "phones", [inserted])
    return inserted


def citizen_name(citizen: Citizen) -> str | None:
    return cipher().decrypt(citizen.name_enc) if citizen.name_enc else None


def phone_number(phone: CitizenPhone) -> str:
    return cipher().decrypt(phone.phone_enc)


def lookup_normalized(raw: str) -> Phone:
    return normalize(raw)

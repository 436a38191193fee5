"""Channel identities of citizens: a WeChat openid is filed like a phone number of the citizen.

It is a ``citizen_phones`` row with kind "wechat": the blind index of "wechat:OPENID" finds it, the openid
is encrypted at rest, and the masked form never shows it. So a case registered over WeChat has a
citizen and a "phone" row like any other, and the citizen file lists the identity next to the numbers.
Code that dials or texts a number must skip rows of kind "wechat" (see ``is_wechat``).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.citizens.profile import cipher
from hotline.db.dialect import insert_ignore
from hotline.extensions import db
from hotline.models import Citizen, CitizenPhone

WECHAT = "wechat"


def wechat_hash(openid: str) -> str:
    return cipher().blind_index(f"{WECHAT}:{openid}")


def wechat_masked(openid: str) -> str:
    return f"微信用户…{openid[-4:]}" if len(openid) > 8 else "微信用户"


def is_wechat(row: CitizenPhone) -> bool:
    return row.kind == WECHAT


def openid_of(row: CitizenPhone) -> str:
    if not is_wechat(row):
        raise ValueError("not a WeChat identity")
    return cipher().decrypt(row.phone_enc)


def find_wechat(openid: str) -> CitizenPhone | None:
    return db.session.scalar(sa.select(CitizenPhone).where(CitizenPhone.phone_hash == wechat_hash(openid)))


def get_or_create_wechat(openid: str) -> CitizenPhone:
    """The identity row (and its citizen) of ``openid``; concurrent first messages both succeed
    (the unique blind index decides, the loser's fresh citizen row is removed again)."""
    digest = wechat_hash(openid)
    existing = db.session.scalar(
        sa.select(CitizenPhone).where(CitizenPhone.phone_hash == digest).options(so.joinedload(CitizenPhone.citizen))
    )
    if existing is not None:
        return existing
    citizen = Citizen(name_enc=None, tags=[], phones=[])
    db.session.add(citizen)
    db.session.flush()
    stmt = insert_ignore(CitizenPhone, ["phone_hash"]).values(
        citizen_id=citizen.id,
        phone_hash=digest,
        phone_enc=cipher().encrypt(openid),
        masked=wechat_masked(openid),
        kind=WECHAT,
        created_at=citizen.created_at,
    )
    inserted = db.session.scalar(stmt.returning(CitizenPhone))
    if inserted is None:
        db.session.delete(citizen)
        db.session.flush()
        return db.session.scalar(sa.select(CitizenPhone).where(CitizenPhone.phone_hash == digest))
    return inserted

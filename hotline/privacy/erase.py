"""Erasing a person: their files keep their rows (cases, calls and ratings still point at them) but lose the name,
the tags, every number's and identity's ciphertext and blind index (so the number finds no file any more), their
WeChat traces, other systems' records and call recordings' links; the cases keep their content. Recorded in
``citizen_erasures`` and the audit log (masked numbers only). Flushes; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from hotline import audit
from hotline.citizens.identities import is_wechat
from hotline.citizens.profile import cipher
from hotline.extensions import db
from hotline.models import (
    Call,
    Case,
    CitizenErasure,
    CitizenEvent,
    ExternalRecord,
    Open311Request,
    OutboxMessage,
    WechatFollower,
    WechatLocation,
    WechatMessage,
)
from hotline.models.citizens import Citizen
from hotline.privacy.person import phones_of

ERASED_MASK = "已删除"
ERASED_PREFIX = "erased:"  # phone_hash of an erased number: unique, and no blind index is ever of this form


@dataclass
class Erased:
    files: int
    phones: int
    cases: int
    masked: list[str]


def erase(files: list[Citizen], actor, *, reason: str = "request", now: datetime | None = None) -> Erased:
    now = now or datetime.now(UTC)
    ids = [c.id for c in files]
    phones = phones_of(ids)
    masked = [p.masked for p in phones if p.masked != ERASED_MASK]
    wechat_hashes = [p.phone_hash for p in phones if is_wechat(p) and not p.phone_hash.startswith(ERASED_PREFIX)]
    empty = cipher().encrypt("")
    for phone in phones:
        phone.phone_hash = f"{ERASED_PREFIX}{phone.id}"
        phone.phone_enc = empty
        phone.masked = ERASED_MASK
    for citizen in files:
        citizen.name_enc = None
        citizen.tags = []
        citizen.updated_at = now
    case_ids = list(db.session.scalars(sa.select(Case.id).where(Case.citizen_id.in_(ids))))
    if case_ids:
        db.session.execute(sa.update(Open311Request).where(Open311Request.case_id.in_(case_ids)).values(name_enc=None))
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.case_id.in_(case_ids), OutboxMessage.channel.in_(("sms", "wechat")))
            .values(recipient="", recipient_masked=ERASED_MASK)
        )
        db.session.execute(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.case_id.in_(case_ids),
                OutboxMessage.channel.in_(("sms", "wechat")),
                OutboxMessage.status == "pending",
            )
            .values(status="failed", last_error="个人信息已删除")
        )
    db.session.execute(sa.update(Call).where(Call.citizen_id.in_(ids)).values(recording_url=None))
    db.session.execute(sa.delete(ExternalRecord).where(ExternalRecord.citizen_id.in_(ids)))
    db.session.execute(sa.delete(CitizenEvent).where(CitizenEvent.citizen_id.in_(ids)))
    if wechat_hashes:
        db.session.execute(sa.delete(WechatFollower).where(WechatFollower.openid_hash.in_(wechat_hashes)))
        db.session.execute(sa.delete(WechatLocation).where(WechatLocation.openid_hash.in_(wechat_hashes)))
        db.session.execute(
            sa.update(WechatMessage).where(WechatMessage.openid_hash.in_(wechat_hashes)).values(openid_hash=ERASED_MASK)
        )
    for citizen_id in ids:
        if db.session.get(CitizenErasure, citizen_id) is None:
            db.session.add(
                CitizenErasure(
                    citizen_id=citizen_id,
                    erased_at=now,
                    actor_id=getattr(actor, "id", None),
                    reason=reason,
                    cases=len(case_ids),
                )
            )
    result = Erased(files=len(ids), phones=len(phones), cases=len(case_ids), masked=masked)
    audit.record(
        actor,
        "pipl.erase" if reason == "request" else "pipl.retention",
        "citizen",
        ids[0] if ids else "",
        before={"files": ids, "phones": masked},
        after={"cases_kept_anonymised": len(case_ids)},
        detail=f"删除 {len(ids)} 个档案、{len(phones)} 个号码/身份；{len(case_ids)} 件工单保留内容并匿名",
    )
    db.session.flush()
    return result

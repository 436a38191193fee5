"""Rating invitations (评价邀请): after a reply (every citizen of the case and of its merged duplicates) and
after a rectification (整改回访). Messages go through the outbox by the citizen's channel."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from hotline.cases.timeline import record
from hotline.extensions import db
from hotline.jobs import RELAY_OUTBOX, enqueue_on_commit
from hotline.models import Case, CitizenPhone, OutboxMessage, RatingInvitation
from hotline.ratings.tokens import new_token, token_hash

REPLY_EXCERPT = 60


def link_for(token: str) -> str:
    base = current_app.config["HOTLINE"].public_url.rstrip("/")
    return f"{base}/r/{token}"


def _channel_for(case: Case, phone: CitizenPhone) -> str:
    if case.channel == "wechat":
        return "wechat"
    return "sms" if phone.kind == "mobile" else "phone"  # a landline rates by keypad after a callback


def _text(purpose: str, own: Case, master: Case, reply: str, link: str) -> str:
    if purpose == "revisit":
        return (
            f"【12345热线】您对工单{own.number}的差评已由承办单位整改，请对整改结果评价：{link} "
            f"也可直接回复数字1-5（5非常满意，1非常不满意）。"
        )
    excerpt = reply if len(reply) <= REPLY_EXCERPT else reply[:REPLY_EXCERPT] + "…"
    merged = f"（已与工单{master.number}合并办理）" if own.id != master.id else ""
    return (
        f"【12345热线】您反映的问题（工单{own.number}）{merged}已办理答复：{excerpt} "
        f"请对办理结果评价：{link} 也可直接回复数字1-5（5非常满意，1非常不满意）。"
    )


def invite(
    master: Case, own: Case, purpose: str, reply: str, now: datetime, rectification_id: int | None = None
) -> RatingInvitation:
    """One invitation for the citizen of ``own`` to rate ``master`` (the case that was handled), queued.

    Only the token's hash is stored; the link goes into the citizen's message (the outbox row the relay sends)
    and is set on the returned object as ``invitation.token`` for the caller's transaction only."""
    phone = own.phone
    channel = _channel_for(own, phone)
    days = current_app.config["HOTLINE"].rating_link_days
    token = new_token()
    invitation = RatingInvitation(
        case_id=master.id,
        citizen_id=own.citizen_id,
        phone_id=phone.id,
        channel=channel,
        purpose=purpose,
        rectification_id=rectification_id,
        token_hash=token_hash(token),
        expires_at=now + timedelta(days=days),
        created_at=now,
    )
    db.session.add(invitation)
    db.session.flush()
    invitation.token = token  # not a column: never stored
    if channel == "phone":
        return invitation
    link = link_for(token)
    text = _text(purpose, own, master, reply, link)
    payload = {
        "kind": "rating_invitation",
        "purpose": purpose,
        "case_number": own.number,
        "master_number": master.number,
        "case_id": own.id,
        "citizen_id": own.citizen_id,
        "invitation_id": invitation.id,
        "url": link,
        "reply": reply[:500],
        "expires_at": invitation.expires_at.isoformat(),
    }
    db.session.add(
        OutboxMessage(
            channel=channel,
            recipient=phone.phone_enc,
            recipient_masked=phone.masked,
            case_id=master.id,
            text=text,
            payload=payload,
            created_at=now,
        )
    )
    enqueue_on_commit(RELAY_OUTBOX)
    return invitation


def invite_after_reply(case: Case, reply: str, now: datetime) -> list[RatingInvitation]:
    """The master's citizen and every citizen of a case merged into it: the reply and a rating link each."""
    merged = list(db.session.scalars(sa.select(Case).where(Case.merged_into_id == case.id).order_by(Case.id)))
    seen: set[int] = set()
    out = []
    for own in [case, *merged]:
        if own.citizen_id in seen:
            continue
        seen.add(own.citizen_id)
        invitation = invite(case, own, "reply", reply, now)
        out.append(invitation)
        if own.id != case.id:
            record(
                own,
                "reply_notice",
                None,
                own.status,
                own.status,
                actor_label="系统（评价邀请）",
                note=f"主工单{case.number}已答复，已告知市民并邀请评价",
                data={"master": case.number},
            )
    if out:
        record(
            case,
            "rating_invite",
            None,
            case.status,
            case.status,
            actor_label="系统（评价邀请）",
            note=f"已向{len(out)}位市民发送答复和评价邀请",
            data={"invitations": [i.id for i in out], "channels": sorted({i.channel for i in out})},
        )
    return out

"""Taking a rating: find the invitation (by link token or by the citizen's number), record the rating once,
then close the case (good rating), open the 差评 loop (poor rating) or conclude a revisit; the supervisor's
revisit call (整改回访) records its rating here too."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from hotline.cases import operations as ops
from hotline.cases.errors import Conflict, Expired, NotFound, RuleRefused
from hotline.cases.timeline import record
from hotline.cases.workflow import CaseState
from hotline.extensions import db
from hotline.models import Case, Rating, RatingInvitation, Rectification, User
from hotline.models.ratings import SCORE_LABELS
from hotline.ratings import rectification
from hotline.ratings.tokens import token_hash, well_formed

REFUSALS = (NotFound, Conflict, Expired)  # what taking a rating refuses with (a link, a used invitation)
CHANNEL_LABELS = {"web": "网页", "wechat": "微信", "sms": "短信", "phone": "电话按键", "revisit_call": "回访电话"}


def invitation_for_token(token, now: datetime, *, for_update: bool = False) -> RatingInvitation:
    """The invitation a link token names; NotFound (forged/unknown), Expired, Conflict (already rated)."""
    invitation = None
    if well_formed(token):
        query = sa.select(RatingInvitation).where(RatingInvitation.token_hash == token_hash(token))
        invitation = db.session.scalar(query.with_for_update() if for_update else query)
    if invitation is None:
        raise NotFound(
            "invalid_token", "评价链接无效：请使用短信或微信中收到的完整链接", {"token": "链接无效或已被篡改"}
        )
    check_usable(invitation, now)
    return invitation


def check_usable(invitation: RatingInvitation, now: datetime) -> None:
    if invitation.used_at is not None:
        raise Conflict("already_rated", "该工单已评价，每次邀请只能评价一次，感谢您的反馈", {"token": "已评价"})
    if invitation.expires_at <= now:
        raise Expired("token_expired", "评价链接已过期，如需评价请拨打12345", {"token": "链接已过期"})


def latest_open_invitation(citizen_id: int | None, phone_id: int | None, now: datetime) -> RatingInvitation | None:
    """The newest unused, unexpired invitation of this number (or, failing that, of this citizen)."""
    base = sa.select(RatingInvitation).where(RatingInvitation.used_at.is_(None), RatingInvitation.expires_at > now)
    for cond in (
        (RatingInvitation.phone_id == phone_id) if phone_id else None,
        (RatingInvitation.citizen_id == citizen_id) if citizen_id else None,
    ):
        if cond is not None:
            hit = db.session.scalar(base.where(cond).order_by(RatingInvitation.id.desc()).limit(1))
            if hit is not None:
                return hit
    return None


def submit(
    invitation: RatingInvitation,
    score: int,
    resolved: bool | None,
    comment: str,
    channel: str,
    now: datetime,
    actor=None,
    check_expiry: bool = True,
) -> Rating:
    """Record one rating for ``invitation`` (single use, safe under concurrent submits), then run its effects."""
    if check_expiry:
        check_usable(invitation, now)
    claimed = db.session.execute(
        sa.update(RatingInvitation)
        .where(RatingInvitation.id == invitation.id, RatingInvitation.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        raise Conflict("already_rated", "该工单已评价，每次邀请只能评价一次，感谢您的反馈", {"token": "已评价"})
    invitation.used_at = now
    case = db.session.get(Case, invitation.case_id)
    rating = Rating(
        case_id=case.id,
        citizen_id=invitation.citizen_id,
        invitation_id=invitation.id,
        department_id=case.lead_department_id,
        score=score,
        resolved=resolved,
        comment=comment or "",
        channel=channel,
        purpose=invitation.purpose,
        created_at=now,
    )
    db.session.add(rating)
    db.session.flush()
    resolved_text = {True: "，问题已解决", False: "，问题未解决"}.get(resolved, "")
    label = f"{actor.name}（{actor.role_label}）" if actor else f"市民（{CHANNEL_LABELS.get(channel, channel)}评价）"
    record(
        case,
        "rate",
        actor,
        case.status,
        case.status,
        actor_label=label,
        note=f"{score}分 {SCORE_LABELS[score]}{resolved_text}" + (f"：{comment}" if comment else ""),
        data={
            "rating_id": rating.id,
            "score": score,
            "resolved": resolved,
            "channel": channel,
            "purpose": invitation.purpose,
            "poor": rating.poor,
        },
    )
    if invitation.purpose == "revisit" and invitation.rectification_id:
        rectification.conclude_revisit(invitation.rectification_id, rating, actor, now)
    elif rating.poor:
        rectification.open_for(case, rating, now)
    elif case.status == CaseState.REPLIED:
        ops.close(case, None, f"市民评价{SCORE_LABELS[score]}，自动办结", now)
        case.events[-1].actor_label = "系统（市民评价）"
    return rating


def revisit_call(
    rect: Rectification, actor: User, score: int, resolved: bool | None, note: str, now: datetime
) -> Rating:
    """The supervisor revisits by phone and records the citizen's new rating on the revisit invitation."""
    rectification.expect_stage(rect, "revisiting")
    invitation = db.session.scalar(
        sa.select(RatingInvitation)
        .where(RatingInvitation.rectification_id == rect.id, RatingInvitation.used_at.is_(None))
        .order_by(RatingInvitation.id.desc())
        .limit(1)
    )
    if invitation is None:
        raise RuleRefused("no_invitation", "市民已通过链接完成回访评价")
    return submit(invitation, score, resolved, note, "revisit_call", now, actor=actor, check_expiry=False)


def parse_digit_score(text: str) -> int | None:
    """'1'..'5' (also full-width '１', with spaces or a trailing 分) -> int, else None."""
    if not isinstance(text, str):
        return None
    cleaned = text.strip().translate(str.maketrans("１２３４５", "12345")).removesuffix("分").strip()
    return int(cleaned) if cleaned in ("1", "2", "3", "4", "5") else None

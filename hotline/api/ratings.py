"""好差评 endpoints for citizens and machines: POST /ratings (link token; never with a staff login), POST
/sms/inbound (gateway webhook, HMAC-signed), and GET /outbox?case=NUMBER (what was queued/sent to people about a
case; rating links masked: staff see that an invitation went out, never the link)."""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa
from flask import current_app, jsonify, request

from hotline.api.blueprint import api_bp
from hotline.api.cases import now
from hotline.auth.permissions import citizen_only, public, requires
from hotline.citizens.phones import try_normalize
from hotline.citizens.profile import phone_hash
from hotline.errors import ApiError
from hotline.extensions import db, limiter
from hotline.models import Case, CitizenPhone, OutboxMessage, Rectification
from hotline.ratings import service
from hotline.ratings.tokens import mask_links
from hotline.web import lookups
from hotline.web.validation import Bool, Int, Str, parse, webhook_json

RATING_SPEC = {
    "token": Str("评价凭证", required=True, max_len=100),
    "score": Int("评分", required=True, min_value=1, max_value=5),
    "resolved": Bool("问题是否解决", required=True),
    "comment": Str("评价意见", max_len=500, default=""),
}


def rating_answer(rating, case: Case) -> dict:
    rect = db.session.scalar(sa.select(Rectification.id).where(Rectification.rating_id == rating.id))
    return {
        "rating": rating.to_dict(),
        "case_number": case.number,
        "case_status": case.status,
        "rectification_id": rect,
    }


@api_bp.post("/ratings")
@citizen_only  # the citizen holds the link token from the invitation; never a staff session or API token
@limiter.limit("60 per minute")
def create_rating():
    data = parse(RATING_SPEC)
    moment = now()
    invitation = service.invitation_for_token(data["token"], moment, for_update=True)
    rating = service.submit(invitation, data["score"], data["resolved"], data["comment"] or "", "web", moment)
    case = db.session.get(Case, rating.case_id)
    body = rating_answer(rating, case)
    db.session.commit()
    return jsonify(body), 201


def _verify_sms_signature(raw: bytes) -> None:
    secret = current_app.config["HOTLINE"].sms_secret.encode()
    header = request.headers.get("X-Hotline-Signature", "")
    expected = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
    if not header or not hmac.compare_digest(header.encode(), expected.encode()):
        raise ApiError(401, "bad_signature", "签名校验失败：请用短信网关共享密钥对请求体做 HMAC-SHA256 签名")


@api_bp.post("/sms/inbound")
@public  # the SMS gateway signs the body (HMAC)
def sms_inbound():
    """An SMS from a citizen: "1"–"5" rates the latest invited case of that number; other text is noted only."""
    raw = request.get_data(cache=True)
    _verify_sms_signature(raw)
    body = webhook_json(raw)
    data = parse({"from": Str("发送号码", required=True, max_len=64), "id": Str("短信编号", max_len=64)}, body)
    text = body.get("text")
    if not isinstance(text, str) or len(text) > 1000:  # free text from a citizen: not validated as markup
        raise ApiError(
            400, "invalid_input", "提交的内容有误：短信内容必须是不超过1000字的文本", {"text": "短信内容无效"}
        )
    data["text"] = text
    phone = try_normalize(data["from"])
    if phone is None:
        raise ApiError(400, "invalid_phone", "发送号码不是有效的电话号码", {"from": "号码无效"})
    score = service.parse_digit_score(data["text"])
    if score is None:
        return jsonify({"rated": False, "code": "not_a_rating", "message": "短信内容不是1-5的评分"})
    row = db.session.scalar(sa.select(CitizenPhone).where(CitizenPhone.phone_hash == phone_hash(phone)))
    moment = now()
    invitation = service.latest_open_invitation(row.citizen_id, row.id, moment) if row else None
    if invitation is None:
        return jsonify({"rated": False, "code": "no_invitation", "message": "该号码没有待评价的工单"})
    invitation = db.session.scalar(
        sa.select(type(invitation)).where(type(invitation).id == invitation.id).with_for_update()
    )
    try:
        rating = service.submit(invitation, score, None, "", "sms", moment)
    except service.REFUSALS as err:  # a concurrent duplicate delivery of the same SMS
        db.session.rollback()
        return jsonify({"rated": False, "code": err.code, "message": err.message})
    case = db.session.get(Case, rating.case_id)
    answer = {"rated": True, **rating_answer(rating, case)}
    db.session.commit()
    return jsonify(answer)


@api_bp.get("/outbox")
@requires("outbox.view")
def outbox_for_case():
    number = (request.args.get("case") or "").strip()
    if not number:
        raise ApiError(400, "invalid_input", "请指定工单编号：?case=工单编号", {"case": "缺少工单编号"})
    case = lookups.case_by_number(number)
    rows = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.case_id == case.id).order_by(OutboxMessage.id)
    ).all()
    return jsonify(
        {
            "case_number": case.number,
            "items": [
                {
                    "id": m.id,
                    "channel": m.channel,
                    "recipient": m.recipient_masked,
                    "text": mask_links(m.text),
                    "status": m.status,
                    "attempts": m.attempts,
                    "kind": (m.payload or {}).get("kind"),
                    "url": mask_links((m.payload or {}).get("url")),
                    "link_masked": bool((m.payload or {}).get("kind") == "rating_invitation"),
                    "created_at": m.created_at.isoformat(),
                    "sent_at": m.sent_at.isoformat() if m.sent_at else None,
                }
                for m in rows
            ],
        }
    )

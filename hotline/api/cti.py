"""POST /api/v1/cti/events — call platform webhook, HMAC-SHA256 signed over the raw body."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from flask import current_app, jsonify, request

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import public
from hotline.citizens import calls
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.ratings.keypad import rate_by_keypad
from hotline.ratings.service import parse_digit_score
from hotline.web.validation import Str, parse, webhook_json


def _verify_signature(raw: bytes) -> None:
    secret = current_app.config["HOTLINE"].cti_secret.encode()
    header = request.headers.get("X-Hotline-Signature", "")
    expected = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
    if not header or not hmac.compare_digest(header.encode(), expected.encode()):
        raise ApiError(401, "bad_signature", "签名校验失败：请用共享密钥对请求体做 HMAC-SHA256 签名")


def _window_text(seconds: int) -> str:
    return f"{seconds // 60} 分钟" if seconds % 60 == 0 else f"{seconds} 秒"


def _parse_time(value: str, now: datetime) -> datetime:
    """``at`` as a UTC instant within HOTLINE_CTI_WINDOW_SECONDS of ``now``: an event dated far from now is a
    replay (the HMAC covers the body, not when it was sent) or a platform with a wrong clock — refused, so a
    captured ``ringing`` posted again later pops nothing on a console."""
    try:
        moment = datetime.fromisoformat(value)
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
        skew = abs((moment - now).total_seconds())
    except (ValueError, OverflowError):  # not a date, or one that leaves datetime's range in UTC (year 1 / 9999)
        raise ApiError(400, "invalid_input", "at 必须是 ISO 8601 时间", {"at": "时间格式不正确"}) from None
    window = current_app.config["HOTLINE"].cti_window_seconds
    if skew > window:
        raise ApiError(
            400,
            "stale_event",
            f"事件时间与服务器时间相差超过 {_window_text(window)}，已拒绝：可能是重放的旧事件，或呼叫平台时钟不准",
            {"at": f"必须在服务器当前时间前后 {_window_text(window)} 之内"},
        )
    return moment


@api_bp.post("/cti/events")
@public  # the call platform signs the body (HMAC)
def cti_event():
    raw = request.get_data(cache=True)
    _verify_signature(raw)
    body = webhook_json(raw)
    data = parse(
        {
            "event": Str("事件", required=True, choices=calls.EVENTS),
            "call_id": Str("通话编号", required=True, max_len=64),
            "caller": Str("主叫号码", required=True, max_len=64),
            "callee": Str("被叫号码", max_len=64, default=""),
            "agent": Str("坐席", max_len=64),
            "at": Str("时间", required=True, max_len=40),
            "recording_url": Str("录音地址", max_len=500),
            "digits": Str("按键", max_len=8),
        },
        body,
    )
    at = _parse_time(data["at"], datetime.now(UTC))
    score = None
    if data["event"] == "rating":
        score = parse_digit_score(data["digits"] or "")
        if score is None:
            raise ApiError(400, "invalid_input", "评分按键必须是1到5", {"digits": "评分按键必须是1到5"})
    evt = calls.CallEvent(
        event=data["event"],
        call_id=data["call_id"],
        caller=data["caller"],
        callee=data["callee"] or "",
        agent=data["agent"],
        at=at,
        recording_url=data["recording_url"],
    )
    call, duplicate = calls.handle(evt)
    rating = None
    if score is not None and not duplicate:
        rating = rate_by_keypad(call, score, evt.at)
    db.session.commit()
    answer = {
        "call_id": call.call_id,
        "status": call.status,
        "duplicate": duplicate,
        "citizen_id": call.citizen_id,
        "duration_seconds": call.duration_seconds,
    }
    if data["event"] == "rating":
        answer["rating"] = rating
    return jsonify(answer)

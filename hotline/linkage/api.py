"""POST /api/v1/linkage/inbound — cases from 110/119/120/122 and peer hotlines, HMAC-signed over the raw body.

``X-Hotline-Signature: sha256=HEX(HMAC-SHA256(secret, raw body))``, the secret being the source's own
(HOTLINE_LINKAGE_SOURCES "source:secret,…") or else HOTLINE_LINKAGE_SECRET. Answers 201 ``{number}`` for a new
case, 200 ``{number, duplicate: true}`` for a (source, reference) already received."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError

from hotline.auth.permissions import public
from hotline.auth.security import CSRF_EXEMPT_BLUEPRINTS
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.feed import changes  # noqa: F401 — the change log's listeners (outcomes go back by webhook)
from hotline.linkage import inbound
from hotline.models.cases import URGENCIES
from hotline.web.validation import Str, parse, webhook_json
from hotline.webhooks.signing import body_signature, valid

linkage_api_bp = Blueprint("linkage_api", __name__)
# a machine-to-machine endpoint authenticated by its signature: no browser session, no CSRF token
linkage_api_bp.record_once(lambda state: state.app.extensions[CSRF_EXEMPT_BLUEPRINTS].add(linkage_api_bp.name))

SPEC = {
    "source": Str("来源系统", required=True, max_len=64),
    "source_type": Str("来源类型", max_len=16, choices=inbound.SENDER_TYPES, default="110"),
    "reference": Str("来源编号（警情/工单编号）", required=True, max_len=64),
    "content": Str("诉求内容", required=True, max_len=5000),
    "caller": Str("来电号码", max_len=64, default=""),
    "caller_name": Str("来电人姓名", max_len=50),
    "address": Str("地址", max_len=300, default=""),
    "category": Str("分类", max_len=255, default=""),
    "urgency": Str("紧急程度", max_len=16, choices=URGENCIES, default="normal"),
    "title": Str("标题", max_len=200, default=""),
}


def secret_for(source: str) -> str:
    settings = current_app.config["HOTLINE"]
    for pair in (settings.linkage_sources or "").split(","):
        name, _, secret = pair.strip().partition(":")
        if name and secret and name == source:
            return secret
    return settings.linkage_secret


@linkage_api_bp.post("/linkage/inbound")
@public  # the linked system signs the body (HMAC)
def linkage_inbound():
    raw = request.get_data(cache=True)
    body = webhook_json(raw)
    source = body.get("source") if isinstance(body.get("source"), str) else ""
    secret = secret_for(source.strip())
    if not secret:
        raise ApiError(403, "linkage_not_configured", "联动接口未配置共享密钥（HOTLINE_LINKAGE_SECRET）")
    if not valid(request.headers.get("X-Hotline-Signature", ""), body_signature(secret, raw)):
        raise ApiError(401, "bad_signature", "签名校验失败：请用联动共享密钥对请求体做 HMAC-SHA256 签名")
    data = parse(SPEC, body)
    found = inbound.existing(data["source"], data["reference"])
    if found is not None:
        return jsonify({"number": found.number, "duplicate": True}), 200
    item = inbound.Inbound(**{k: v for k, v in data.items() if v is not None})
    try:
        case = inbound.receive(item, datetime.now(UTC))
        number = case.number
        db.session.commit()
    except IntegrityError:  # a concurrent twin with the same reference committed first
        db.session.rollback()
        found = inbound.existing(data["source"], data["reference"])
        if found is None:
            raise
        return jsonify({"number": found.number, "duplicate": True}), 200
    return jsonify({"number": number, "duplicate": False}), 201

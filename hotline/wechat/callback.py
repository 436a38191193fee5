"""GET|POST /wechat — WeChat's server protocol: signature check, echostr handshake, plain and AES messages.

Errors are JSON (a machine calls this); a valid message always gets an answer (XML reply or "success").

Hostile-internet rules (issue 16): with ``HOTLINE_WECHAT_AES_KEY`` set only encrypted messages are taken (安全模式,
or 兼容模式 of which only the ``Encrypt`` part, verified by ``msg_signature``, is read) — a plain-mode POST is
refused; every POST's (timestamp, nonce) is used once (hotline/wechat/replay.py); the reply is written by
hotline/wechat/messages.py, always one well-formed message.
"""

from __future__ import annotations

import base64
import binascii
import time
from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, current_app, jsonify, request

from hotline.auth.permissions import authenticate_api, public
from hotline.cases.errors import DomainError
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.wechat import intake, messages, replay

wechat_bp = Blueprint("wechat", __name__)
wechat_bp.before_request(authenticate_api)  # the callback is @public: WeChat signs every request
MAX_SKEW = 600  # seconds between WeChat's timestamp and our clock: the signature window
MAX_NONCE = 64


@wechat_bp.errorhandler(ApiError)
def _json_error(err: ApiError):
    return jsonify({"error": {"code": err.code, "message": err.message, "fields": err.fields}}), err.status


@wechat_bp.errorhandler(DomainError)
def _domain_error(err: DomainError):
    db.session.rollback()
    return jsonify({"error": {"code": err.code, "message": err.message, "fields": err.fields}}), err.status


def _settings():
    settings = current_app.config["HOTLINE"]
    if not settings.wechat_token:
        raise ApiError(503, "wechat_not_configured", "未配置微信公众号（HOTLINE_WECHAT_TOKEN）")
    return settings


def _check(token: str) -> tuple[str, str]:
    # wechatpy is a large import (tests/bench/README.md, create_case): only in processes where WeChat is used
    from wechatpy.exceptions import InvalidSignatureException
    from wechatpy.utils import check_signature

    args = request.args
    signature, timestamp, nonce = args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", "")
    missing = {
        k: "缺少参数" for k, v in (("signature", signature), ("timestamp", timestamp), ("nonce", nonce)) if not v
    }
    if missing:
        raise ApiError(400, "missing_signature", "缺少微信签名参数（signature、timestamp、nonce）", missing)
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise ApiError(400, "invalid_signature_params", "timestamp 必须是秒级时间戳", {"timestamp": "必须是数字"})
    if len(nonce) > MAX_NONCE or not nonce.isascii() or not nonce.isprintable():
        raise ApiError(400, "invalid_signature_params", "nonce 格式不正确", {"nonce": "最多 64 个可见字符"})
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException:
        raise ApiError(403, "invalid_signature", "微信签名校验失败") from None
    if abs(time.time() - int(timestamp)) > MAX_SKEW:
        # a signed request captured and replayed later (the plain-mode signature does not cover the body)
        raise ApiError(403, "stale_signature", "微信签名已过期（时间戳与服务器时间相差超过10分钟）")
    return timestamp, nonce


def _crypto(settings):
    from wechatpy.crypto import WeChatCrypto

    key = settings.wechat_aes_key
    try:
        if len(key) != 43 or len(base64.b64decode(key + "=")) != 32:
            raise ValueError
    except (ValueError, binascii.Error):
        raise ApiError(
            503, "wechat_aes_not_configured", "未正确配置消息加解密密钥（HOTLINE_WECHAT_AES_KEY，43 个字符）"
        ) from None
    return WeChatCrypto(settings.wechat_token, key, settings.wechat_appid)


def _decrypt(settings, raw: bytes, timestamp: str, nonce: str):
    """(plain message, crypto) — crypto None in plain mode, which is refused while an AES key is set."""
    from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

    if request.args.get("encrypt_type", "raw") != "aes":
        if settings.wechat_aes_key:
            raise ApiError(
                403,
                "plain_message_refused",
                "已启用消息加解密（HOTLINE_WECHAT_AES_KEY）：只接受安全模式或兼容模式的加密消息，明文消息不予受理",
            )
        return raw, None
    crypto = _crypto(settings)
    msg_signature = request.args.get("msg_signature", "")
    if not msg_signature:
        raise ApiError(400, "missing_signature", "加密消息缺少 msg_signature 参数", {"msg_signature": "缺少参数"})
    try:
        # 兼容模式 carries the message twice: only the Encrypt part, checked by msg_signature, is read
        return crypto.decrypt_message(raw, msg_signature, timestamp, nonce), crypto
    except (InvalidSignatureException, InvalidAppIdException):
        raise ApiError(403, "invalid_signature", "加密消息签名或 AppID 校验失败") from None
    except Exception:
        raise ApiError(400, "decrypt_failed", "加密消息无法解密，请检查消息格式") from None


@wechat_bp.route("/wechat", methods=["GET", "POST"])
@public
def callback():
    settings = _settings()
    timestamp, nonce = _check(settings.wechat_token)
    if request.method == "GET":
        echostr = request.args.get("echostr", "")
        if not echostr:
            raise ApiError(400, "missing_echostr", "缺少 echostr 参数", {"echostr": "缺少参数"})
        return Response(echostr, mimetype="text/plain")
    raw = request.get_data()
    body, crypto = _decrypt(settings, raw, timestamp, nonce)
    now = datetime.now(UTC)
    expires = datetime.fromtimestamp(int(timestamp), UTC) + timedelta(seconds=MAX_SKEW + 60)
    if not replay.claim("wechat", f"{timestamp}:{nonce}", raw, expires, now):
        raise ApiError(403, "replayed_signature", "该签名（timestamp、nonce）已被使用：拒绝重放的请求")
    inbound = messages.parse(body)
    answer = intake.handle(inbound, now)
    if not answer:
        return Response("success", mimetype="text/plain")
    reply = messages.text_reply(inbound, answer, now)
    if crypto is not None:
        reply = crypto.encrypt_message(reply, nonce, timestamp)
    return Response(reply, mimetype="application/xml")

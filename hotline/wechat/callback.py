"""GET|POST /wechat — WeChat's server protocol: signature check, echostr handshake, plain and AES messages.

Errors are JSON (a machine calls this); a valid message always gets an answer (XML reply or "success").
"""

from __future__ import annotations

import base64
import binascii
import time
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, jsonify, request

from hotline.auth.permissions import authenticate_api, public
from hotline.errors import ApiError
from hotline.wechat import intake

wechat_bp = Blueprint("wechat", __name__)
wechat_bp.before_request(authenticate_api)  # the callback is @public: WeChat signs every request
MAX_SKEW = 600  # seconds between WeChat's timestamp and our clock


@wechat_bp.errorhandler(ApiError)
def _json_error(err: ApiError):
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
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException:
        raise ApiError(403, "invalid_signature", "微信签名校验失败") from None
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW:
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


def _inbound(xml: str | bytes) -> tuple[intake.Inbound, object]:
    from wechatpy import parse_message

    try:
        msg = parse_message(xml) if xml else None
    except Exception:  # expat errors, missing root: the body is not a WeChat message
        msg = None
    if msg is None:
        raise ApiError(400, "invalid_xml", "消息格式不正确：需要微信 XML 消息")
    openid = (msg.source or "").strip() if isinstance(msg.source, str) else ""
    if not openid or len(openid) > 64 or not msg.type:
        raise ApiError(400, "invalid_message", "消息缺少发送者（FromUserName）或类型（MsgType）")
    msg_id = str(msg.id) if getattr(msg, "id", None) else None
    content = getattr(msg, "content", "") if msg.type == "text" else ""
    return intake.Inbound(
        openid=openid, msg_type=str(msg.type), msg_id=msg_id, content=content or "", event=getattr(msg, "event", None)
    ), msg


@wechat_bp.route("/wechat", methods=["GET", "POST"])
@public
def callback():
    from wechatpy import create_reply
    from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

    settings = _settings()
    timestamp, nonce = _check(settings.wechat_token)
    if request.method == "GET":
        echostr = request.args.get("echostr", "")
        if not echostr:
            raise ApiError(400, "missing_echostr", "缺少 echostr 参数", {"echostr": "缺少参数"})
        return Response(echostr, mimetype="text/plain")
    body = request.get_data()
    encrypted = request.args.get("encrypt_type", "raw") == "aes"
    crypto = _crypto(settings) if encrypted else None
    if crypto is not None:
        try:
            body = crypto.decrypt_message(body, request.args.get("msg_signature", ""), timestamp, nonce)
        except (InvalidSignatureException, InvalidAppIdException):
            raise ApiError(403, "invalid_signature", "加密消息签名或 AppID 校验失败") from None
        except Exception:
            raise ApiError(400, "decrypt_failed", "加密消息无法解密，请检查消息格式") from None
    inbound, msg = _inbound(body)
    answer = intake.handle(inbound, datetime.now(UTC))
    if not answer:
        return Response("success", mimetype="text/plain")
    reply = create_reply(answer, msg).render()
    if crypto is not None:
        reply = crypto.encrypt_message(reply, nonce, timestamp)
    return Response(reply, mimetype="application/xml")

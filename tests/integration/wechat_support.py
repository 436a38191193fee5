"""An independent WeChat client for tests: signs (sha1 of sorted token/timestamp/nonce, as WeChat's docs say)
and encrypts with wechatpy's own crypto, the way WeChat's servers call /wechat."""

from __future__ import annotations

import base64
import hashlib
import os
import time
import uuid

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import check_signature

TOKEN = "hotline-wechat-test-token"
APPID = "wx0123456789abcdef"
SECRET = "test-app-secret"
AES_KEY = base64.b64encode(os.urandom(32)).decode().rstrip("=")  # 43 characters, as in the MP console


def signed(token: str = TOKEN, age: int = 0, **extra) -> dict:
    timestamp, nonce = str(int(time.time()) - age), uuid.uuid4().hex[:10]
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324 — WeChat's protocol
    check_signature(token, signature, timestamp, nonce)  # wechatpy agrees with the hand-made signature
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce, **extra}


def text_xml(openid: str, content: str, msg_id: int | str | None, msg_type: str = "text") -> str:
    msg = f"<MsgId>{msg_id}</MsgId>" if msg_id is not None else ""
    body = f"<Content><![CDATA[{content}]]></Content>" if msg_type == "text" else "<PicUrl>http://x/y.jpg</PicUrl>"
    return (
        f"<xml><ToUserName><![CDATA[gh_hotline]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{body}{msg}</xml>"
    )


def reply_text(xml: str | bytes) -> str:
    return xmltodict.parse(xml)["xml"]["Content"]


class WeChatClient:
    """Posts like WeChat: plain mode (only while no AES key is configured), AES ("安全模式") with msg_signature, or
    兼容模式 (clear and encrypted in one body)."""

    def __init__(self, client):
        self.client = client
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)

    def plain(self, openid: str, content: str, msg_id) -> tuple[int, str]:
        resp = self.client.post(
            "/wechat", query_string=signed(), data=text_xml(openid, content, msg_id).encode(), content_type="text/xml"
        )
        return resp.status_code, resp.get_data(as_text=True)

    def encrypted(self, openid: str, content: str, msg_id) -> tuple[int, str]:
        params = signed(encrypt_type="aes")
        envelope = self.crypto.encrypt_message(text_xml(openid, content, msg_id), params["nonce"], params["timestamp"])
        fields = xmltodict.parse(envelope)["xml"]
        body = (
            f"<xml><ToUserName><![CDATA[gh_hotline]]></ToUserName>"
            f"<Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt></xml>"
        )
        params["msg_signature"] = fields["MsgSignature"]
        resp = self.client.post("/wechat", query_string=params, data=body.encode(), content_type="text/xml")
        if resp.status_code != 200 or resp.get_data(as_text=True) == "success":
            return resp.status_code, resp.get_data(as_text=True)
        answer = xmltodict.parse(resp.get_data())["xml"]
        plain = self.crypto.decrypt_message(
            resp.get_data(), answer["MsgSignature"], answer["TimeStamp"], answer["Nonce"]
        )
        return resp.status_code, plain

    def compatible(self, openid: str, content: str, msg_id, shown: str | None = None) -> tuple[int, str]:
        """兼容模式: the message in clear (``shown``: what the clear part claims) and encrypted, with msg_signature."""
        params = signed(encrypt_type="aes")
        envelope = self.crypto.encrypt_message(text_xml(openid, content, msg_id), params["nonce"], params["timestamp"])
        fields = xmltodict.parse(envelope)["xml"]
        clear = text_xml(shown or openid, content, msg_id)
        body = clear.replace("</xml>", f"<Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt></xml>")
        params["msg_signature"] = fields["MsgSignature"]
        resp = self.client.post("/wechat", query_string=params, data=body.encode(), content_type="text/xml")
        if resp.status_code != 200 or resp.get_data(as_text=True) == "success":
            return resp.status_code, resp.get_data(as_text=True)
        answer = xmltodict.parse(resp.get_data())["xml"]
        return resp.status_code, self.crypto.decrypt_message(
            resp.get_data(), answer["MsgSignature"], answer["TimeStamp"], answer["Nonce"]
        )

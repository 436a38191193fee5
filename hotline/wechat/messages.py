"""WeChat message XML: an inbound message read field by field (never trusted to be well-typed), and a text reply
written so that it is always exactly one well-formed message, whatever the text holds.

wechatpy's reply classes paste the text into ``<![CDATA[…]]>`` unescaped: a reply containing ``]]>`` (an official
reply quoted by 查询, say) would end the section early and carry markup of its own. So replies are written here:
every value is a CDATA section whose ``]]>`` is split across two sections, and characters XML 1.0 forbids are
dropped. The message is read with xmltodict (expat, entities disabled), as wechatpy itself does.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from hotline.cases.errors import InvalidInput

MSG_ID = re.compile(r"^[0-9]{1,20}$")  # WeChat's MsgId is a 64-bit integer
MAX_MSG_ID = 2**64 - 1
MAX_OPENID = 64
MAX_TYPE = 16
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class Location:
    lat: float
    lng: float
    scale: int | None = None
    label: str = ""


@dataclass
class Inbound:
    openid: str
    msg_type: str
    msg_id: str | None = None
    content: str = ""
    event: str | None = None
    to_user: str = ""
    recognition: str = ""  # voice messages: WeChat's speech recognition (empty when it recognised nothing)
    location: Location | None = None  # location messages; None when their coordinates are not numbers in range
    media_id: str = ""  # image, voice, video messages: the file at WeChat's media API (hotline/evidence/wechat.py)


def _text(root: dict, name: str) -> str:
    value = root.get(name)
    if isinstance(value, dict):  # <Content attr="x">text</Content>
        value = value.get("#text")
    return value.strip() if isinstance(value, str) else ""


def _number(root: dict, name: str, low: float, high: float) -> float | None:
    try:
        value = float(_text(root, name))
    except ValueError:
        return None
    return value if math.isfinite(value) and low <= value <= high else None


def _location(root: dict) -> Location | None:
    lat = _number(root, "Location_X", -90.0, 90.0)
    lng = _number(root, "Location_Y", -180.0, 180.0)
    if lat is None or lng is None:
        return None
    scale = _text(root, "Scale")
    label = re.sub(r"[<>\s]+", " ", XML_ILLEGAL.sub("", _text(root, "Label"))).strip()[:200]
    return Location(lat=lat, lng=lng, scale=int(scale) if scale.isdigit() and len(scale) < 6 else None, label=label)


def parse(xml: str | bytes) -> Inbound:
    """The message in ``xml``; InvalidInput (400) when it is not a WeChat message or its MsgId is not a number."""
    import xmltodict

    try:
        doc = xmltodict.parse(xml) if xml else None
    except Exception:  # expat errors, several roots, entities: the body is not a WeChat message
        doc = None
    root = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(root, dict):
        raise InvalidInput("invalid_xml", "消息格式不正确：需要微信 XML 消息")
    openid, msg_type = _text(root, "FromUserName"), _text(root, "MsgType").lower()
    if not openid or len(openid) > MAX_OPENID or not msg_type or len(msg_type) > MAX_TYPE:
        raise InvalidInput("invalid_message", "消息缺少发送者（FromUserName）或类型（MsgType）")
    msg_id = _text(root, "MsgId") or None
    if msg_id is not None and (not MSG_ID.match(msg_id) or int(msg_id) > MAX_MSG_ID):
        raise InvalidInput(
            "invalid_msg_id", "消息编号（MsgId）必须是不超过 20 位的数字", {"MsgId": "必须是 64 位以内的整数"}
        )
    return Inbound(
        openid=openid,
        msg_type=msg_type,
        msg_id=msg_id,
        content=_text(root, "Content") if msg_type == "text" else "",
        event=_text(root, "Event").lower() or None,
        to_user=_text(root, "ToUserName")[:MAX_OPENID],
        recognition=_text(root, "Recognition"),
        location=_location(root) if msg_type == "location" else None,
        media_id=_text(root, "MediaId")[:128],
    )


def cdata(value: str) -> str:
    """``value`` as CDATA: ``]]>`` split over two sections, characters XML 1.0 forbids dropped."""
    return "<![CDATA[" + XML_ILLEGAL.sub("", value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(msg: Inbound, content: str, now: datetime) -> str:
    """The passive text reply to ``msg`` (WeChat's format: to the sender, from the account it wrote to)."""
    return (
        "<xml>"
        f"<ToUserName>{cdata(msg.openid)}</ToUserName>"
        f"<FromUserName>{cdata(msg.to_user)}</FromUserName>"
        f"<CreateTime>{int(now.timestamp())}</CreateTime>"
        f"<MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )

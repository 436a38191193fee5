"""What an inbound WeChat message does: register a request, answer a status query, keep a location, or explain.

One transaction per message: the dedupe row (INSERT … ON CONFLICT DO NOTHING on MsgId) and the case it creates
commit together, so WeChat's retries of the same MsgId get the first answer again and create nothing.
Everything here is a few indexed statements, well inside WeChat's 5-second answer limit.

- text: a short message that says 查询 anywhere, or names a case number, is a status query (``query_of``);
  帮助/你好 get the welcome; anything else of 5+ characters registers a case (with the citizen's pending location);
- voice: WeChat's recognised text (``Recognition``) is read as if typed; nothing recognised → asked to type;
- location: kept for the next request of that openid (hotline/wechat/locations.py), asked for a description;
- image, video: kept as evidence on the citizen's open case, or a new case asking for a description
  (hotline/evidence/wechat.py; the file is fetched from WeChat's media API by a ``media`` job);
- subscribe: the full welcome once per openid (``wechat_followers``), a short 欢迎回来 after that.
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from limits import parse_many

from hotline.cases import operations as ops
from hotline.citizens.identities import find_wechat, get_or_create_wechat, wechat_hash
from hotline.db.dialect import insert_ignore
from hotline.evidence import wechat as evidence_wechat
from hotline.extensions import db, hit_limits
from hotline.models import Case, WechatFollower, WechatMessage
from hotline.portal.public import wechat_answer
from hotline.portal.status import as_text, citizen_status
from hotline.web.validation import Str
from hotline.wechat import locations
from hotline.wechat.messages import Inbound

__all__ = ["Inbound", "handle", "infer_kind", "query_of"]

QUERY = re.compile(r"^\s*(?:查询|查詢|查)\s*[:：]?\s*([A-Za-z]{2}\d{8}-\d{6})?\s*$")
NUMBER = re.compile(r"[A-Za-z]{2}\d{8}-\d{6}")
QUERY_WORDS = ("查询", "查詢")
# a message of at most this many characters (a case number not counted) that says 查询 or names a case number is
# a status query ("查询GD20261122-000123谢谢", "帮我查询一下"); a longer one is a request that mentions them
QUERY_MAX_CHARS = 20
HELP_WORDS = {"帮助", "help", "菜单", "?", "？", "你好", "您好"}
GUIDE_WORDS = ("办事指南", "指南")
MIN_CHARS = 5
KIND_WORDS = (
    ("举报", "report"),
    ("投诉", "complaint"),
    ("建议", "suggestion"),
    ("表扬", "praise"),
    ("感谢", "praise"),
    ("咨询", "consult"),
    ("请问", "consult"),
)

WELCOME = (
    "欢迎关注 12345 政务服务便民热线。\n"
    "• 直接发送文字或语音描述您的诉求（事项、地点、时间），我们会登记并转交办理单位；\n"
    "• 可以先发送位置，再发送文字描述；\n"
    "• 发送「查询 工单编号」查看办理进度，例如：查询 GD20261122-000123；\n"
    "• 发送「指南 事项」查询办事指南，例如：指南 社保卡补办；\n"
    "• 紧急情况请拨打 110/119/120。"
)
WELCOME_BACK = "欢迎回来！直接发送文字即可提交诉求，发送「查询」查看办理进度。"
ONLY_TEXT = "目前仅支持文字、语音和位置消息，请用文字描述您的诉求（事项、地点、时间）。"
VOICE_UNRECOGNISED = "抱歉，没有识别出您的语音内容。请用文字描述您的诉求（事项、地点、时间）。"


def infer_kind(text: str) -> str:
    for word, kind in KIND_WORDS:
        if word in text:
            return kind
    return "help"


def query_of(text: str) -> tuple[bool, str | None]:
    """(is a status query, the case number named or None)."""
    match = QUERY.match(text)
    if match:
        return True, match.group(1)
    numbers = NUMBER.findall(text)
    rest = NUMBER.sub("", text).strip()
    if len(rest) <= QUERY_MAX_CHARS and (numbers or any(word in rest for word in QUERY_WORDS)):
        return True, numbers[0] if numbers else None
    return False, None


def _throttled(openid_hash: str) -> bool:
    """Per-openid quota of new requests (Redis, shared by every web process; per process while Redis is down)."""
    items = parse_many(current_app.config["HOTLINE"].wechat_rate_limit)
    return not hit_limits(items, "wechat-openid", openid_hash)


def _create(msg: Inbound, text: str, now: datetime) -> tuple[str, str, Case | None]:
    limit = current_app.config["HOTLINE"].max_content_chars
    content, problem = Str("诉求内容", required=True, max_len=limit, min_len=MIN_CHARS).check(text)
    if problem:
        return "refused", f"{problem}。请用文字描述您的诉求（事项、地点、时间），至少{MIN_CHARS}个字。", None
    openid_hash = wechat_hash(msg.openid)
    if _throttled(openid_hash):
        return "throttled", "您提交得太频繁了，请稍后再试。如有紧急情况请直接拨打 12345。", None
    identity = get_or_create_wechat(msg.openid)
    place = locations.pending(openid_hash, now)
    case = ops.create_case(
        ops.NewCase(
            channel="wechat",
            kind=infer_kind(content),
            content=content,
            phone=None,
            phone_row=identity,
            address=locations.address_of(place) if place is not None else "",
        ),
        None,
        now,
        actor_label="市民（微信）",
    )
    where = ""
    if place is not None:
        locations.attach(place, case)
        where = f"已附上您发送的位置：{locations.address_of(place)}。\n"
    return (
        "create",
        (
            f"您的诉求已受理，工单编号：{case.number}。\n{where}"
            "我们将尽快转交相关单位办理，办理结果会通过本公众号通知您。\n"
            f"回复「查询 {case.number}」可随时查看办理进度。"
        ),
        case,
    )


def _query(msg: Inbound, number: str | None) -> tuple[str, str, Case | None]:
    identity = find_wechat(msg.openid)
    if identity is None:
        return "query", "没有找到您通过本公众号提交的诉求。直接发送文字即可提交新的诉求。", None
    own = sa.select(Case).where(Case.citizen_id == identity.citizen_id)
    if number is None:
        cases = db.session.scalars(own.order_by(Case.id.desc()).limit(3)).all()
        if not cases:
            return "query", "没有找到您通过本公众号提交的诉求。直接发送文字即可提交新的诉求。", None
        lines = [f"{c.number}：{citizen_status(c).label}" for c in cases]
        return "query", "您最近的诉求：\n" + "\n".join(lines) + "\n回复「查询 工单编号」查看详情。", None
    case = db.session.scalar(own.where(Case.number == number.upper()))
    if case is None:  # someone else's case and an unknown number get the same answer
        return "query", f"没有找到工单 {number.upper()}。请核对编号（只能查询您本人通过本公众号提交的诉求）。", None
    return "query", as_text(citizen_status(case, current_app.config["HOTLINE"].timezone)), case


def _text(msg: Inbound, text: str, now: datetime) -> tuple[str, str, Case | None]:
    text = text.strip()
    if text.lower().rstrip("。.！!") in HELP_WORDS:  # "你好。" as WeChat's speech recognition writes it
        return "help", WELCOME, None
    for word in GUIDE_WORDS:  # 「指南 社保卡补办」: the published KB, the citizen portal's search (issue 19)
        if text.startswith(word) and text[len(word) :].strip(" ：:"):
            return "guide", wechat_answer(text[len(word) :].strip(" ：:")), None
    is_query, number = query_of(text)
    if is_query:
        return _query(msg, number)
    return _create(msg, text, now)


def _respond(msg: Inbound, now: datetime) -> tuple[str, str, Case | None]:
    if msg.msg_type == "text":
        return _text(msg, msg.content, now)
    if msg.msg_type == "voice":
        if not msg.recognition.strip():
            return "refused", VOICE_UNRECOGNISED, None
        action, reply, case = _text(msg, msg.recognition, now)
        if action == "create":
            evidence_wechat.keep_voice(case, msg.media_id)  # the recording kept as evidence (issue 18)
        return action, reply, case
    if msg.msg_type == "location":
        action, reply = locations.store(wechat_hash(msg.openid), msg.location, now)
        return action, reply, None
    if msg.msg_type in ("image", "video", "shortvideo"):  # kept as evidence (hotline/evidence/wechat.py)
        return evidence_wechat.receive_media(msg.openid, msg.msg_type, msg.media_id, now)
    return "refused", ONLY_TEXT, None


def _welcome(msg: Inbound, now: datetime) -> str:
    """The full welcome at an openid's first subscribe, a short 欢迎回来 at every later one."""
    digest = wechat_hash(msg.openid)
    first = db.session.scalar(
        insert_ignore(WechatFollower, ["openid_hash"])
        .values(openid_hash=digest, subscriptions=1, first_subscribed_at=now, last_subscribed_at=now)
        .returning(WechatFollower.id)
    )
    if first is None:
        db.session.execute(
            sa.update(WechatFollower)
            .where(WechatFollower.openid_hash == digest)
            .values(subscriptions=WechatFollower.subscriptions + 1, last_subscribed_at=now)
        )
    db.session.commit()
    return WELCOME if first is not None else WELCOME_BACK


def handle(msg: Inbound, now: datetime) -> str:
    """Process one message and commit; returns the text to answer ("" = answer nothing)."""
    if msg.msg_type == "event":
        return _welcome(msg, now) if msg.event == "subscribe" else ""
    row_id = None
    if msg.msg_id:
        row_id = db.session.scalar(
            insert_ignore(WechatMessage, ["msg_id"])
            .values(
                msg_id=msg.msg_id,
                openid_hash=wechat_hash(msg.openid),
                msg_type=msg.msg_type[:16],
                action="",
                reply="",
                created_at=now,
            )
            .returning(WechatMessage.id)
        )
        if row_id is None:  # a retry: answer what the first delivery answered, do nothing else
            first = db.session.scalar(  # another openid's MsgId: not its answer (a forged or colliding MsgId)
                sa.select(WechatMessage.reply).where(
                    WechatMessage.msg_id == msg.msg_id, WechatMessage.openid_hash == wechat_hash(msg.openid)
                )
            )
            db.session.rollback()
            return first or ""
    action, reply, case = _respond(msg, now)
    if row_id is not None:
        db.session.flush()
        db.session.execute(
            sa.update(WechatMessage)
            .where(WechatMessage.id == row_id)
            .values(action=action, reply=reply, case_id=case.id if case is not None and action == "create" else None)
        )
    db.session.commit()
    return reply

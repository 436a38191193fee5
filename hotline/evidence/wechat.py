"""WeChat image, video and voice messages as evidence (hotline/wechat/intake.py calls :func:`receive_media`).

The message only names the file (``MediaId``); the ``media`` queue's job downloads it from WeChat's media API
(``cgi-bin/media/get``) through the app's WeChat client (hotline/channels/wechat.py: the shared access token, the
configurable API host) and keeps it on the case — outside WeChat's 5-second answer window. The file goes to the
citizen's latest open case; with none, a new case is registered that asks for a description."""

from __future__ import annotations

import io
import logging
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from limits import parse_many

from hotline.cases import operations as ops
from hotline.cases.errors import DomainError
from hotline.cases.workflow import CaseState
from hotline.channels.wechat import client
from hotline.citizens.identities import get_or_create_wechat, wechat_hash
from hotline.evidence.service import add_file
from hotline.extensions import db, hit_limits
from hotline.jobs import FETCH_WECHAT_MEDIA, enqueue_on_commit
from hotline.models import Case

log = logging.getLogger(__name__)
LABELS = {"image": "图片", "video": "视频", "shortvideo": "视频", "voice": "语音"}
DONE = (CaseState.CLOSED, CaseState.MERGED)
MAX_BYTES = 20 * 1024 * 1024  # WeChat's own limits: images 10 MB, video 10 MB, voice 2 MB


def open_case(citizen_id: int) -> Case | None:
    return db.session.scalar(
        sa.select(Case)
        .where(Case.citizen_id == citizen_id, Case.status.not_in([s.value for s in DONE]))
        .order_by(Case.id.desc())
        .limit(1)
    )


def keep_voice(case: Case, media_id: str) -> None:
    """A voice message that registered ``case`` (its recognised text): keep the recording as evidence too."""
    if media_id:
        enqueue_on_commit(FETCH_WECHAT_MEDIA, case.id, media_id, "voice")


def receive_media(openid: str, msg_type: str, media_id: str, now: datetime) -> tuple[str, str, Case | None]:
    """(action, reply, case) for an image/video message."""
    label = LABELS.get(msg_type, "文件")
    if not media_id:
        return "refused", f"没有收到{label}内容，请重新发送。", None
    identity = get_or_create_wechat(openid)
    case = open_case(identity.citizen_id)
    if case is not None:
        enqueue_on_commit(FETCH_WECHAT_MEDIA, case.id, media_id, msg_type)
        return (
            "evidence",
            f"已收到您的{label}，将作为工单 {case.number} 的材料转交办理单位。如是新的问题，请用文字另行描述。",
            case,
        )
    items = parse_many(current_app.config["HOTLINE"].wechat_rate_limit)
    if not hit_limits(items, "wechat-openid", wechat_hash(openid)):
        return "throttled", "您提交得太频繁了，请稍后再试。如有紧急情况请直接拨打 12345。", None
    case = ops.create_case(
        ops.NewCase(
            channel="wechat",
            kind="help",
            content=f"市民通过微信发送了{label}，尚未附文字说明（见附件）。",
            phone=None,
            phone_row=identity,
            address="",
        ),
        None,
        now,
        actor_label="市民（微信）",
    )
    enqueue_on_commit(FETCH_WECHAT_MEDIA, case.id, media_id, msg_type)
    return (
        "create",
        f"已收到您的{label}并登记为工单 {case.number}。请再发送文字，说明是什么问题、在哪里、什么时间，便于尽快办理。",
        case,
    )


def fetch_into_case(case_id: int, media_id: str, msg_type: str, now: datetime) -> str:
    """The job body: download ``media_id`` from WeChat and keep it on the case ("added", "duplicate" or a code)."""
    case = db.session.get(Case, case_id)
    if case is None:
        return "missing"
    try:
        response = client().media.download(media_id)
    except Exception as exc:  # WeChatClientException (expired media, bad token), network errors
        log.warning("WeChat media %s of case %s not fetched: %s", media_id[:64], case.number, exc)
        return "wechat_failed"
    if not hasattr(response, "content") or len(response.content) > MAX_BYTES:
        return "wechat_failed"
    name = f"wechat-{msg_type}-{media_id[-12:]}"
    try:
        added = add_file(case, io.BytesIO(response.content), name, source="wechat", now=now, actor_label="市民（微信）")
    except DomainError as err:
        log.warning("WeChat media %s of case %s refused: %s", media_id[:64], case.number, err.message)
        return err.code
    return "added" if added.created else "duplicate"

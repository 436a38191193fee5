"""WeChat template-message notices: queued in the outbox, sent by the relay through WeChat's HTTP API.

The API base URL is a setting (HOTLINE_WECHAT_API_BASE), so tests point it at a fake WeChat server speaking the
same HTTP API. The access token is cached in Redis (shared by every process, refreshed by wechatpy on expiry).
"""

from __future__ import annotations

from flask import current_app
from wechatpy import WeChatClient
from wechatpy.session.redisstorage import RedisStorage

from hotline.cases.workflow import state_label
from hotline.channels.registry import register
from hotline.citizens.identities import is_wechat
from hotline.citizens.profile import cipher
from hotline.extensions import connect_redis, db
from hotline.jobs import RELAY_OUTBOX, enqueue_on_commit
from hotline.models import Case, OutboxMessage


class HotlineWeChatClient(WeChatClient):
    """wechatpy's client with a configurable API host (token URL included)."""

    def __init__(self, base: str, appid: str, secret: str, session):
        super().__init__(appid, secret, session=session, timeout=10)
        self.API_BASE_URL = base.rstrip("/") + "/cgi-bin/"

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


def client() -> HotlineWeChatClient:
    settings = current_app.config["HOTLINE"]
    if not (settings.wechat_appid and settings.wechat_secret):
        raise RuntimeError("WeChat is not configured (HOTLINE_WECHAT_APPID / HOTLINE_WECHAT_SECRET)")
    storage = RedisStorage(connect_redis(settings), prefix="hotline:wechat")
    return HotlineWeChatClient(settings.wechat_api_base, settings.wechat_appid, settings.wechat_secret, storage)


def queue_notice(case: Case, text: str, *, title: str, url: str | None = None) -> OutboxMessage | None:
    """Queue a template notice to the case's WeChat citizen (None when the case did not come from WeChat).

    ``text`` is the notice as a person reads it (shown by GET /outbox); the template fields are built from it."""
    identity = case.phone
    if identity is None or not is_wechat(identity):
        return None
    payload = {"title": title, "number": case.number, "status": case.status, "url": url}
    message = OutboxMessage(
        channel="wechat",
        recipient=identity.phone_enc,
        recipient_masked=identity.masked,
        case_id=case.id,
        text=text,
        payload=payload,
    )
    db.session.add(message)
    enqueue_on_commit(RELAY_OUTBOX)
    return message


TITLES = {"rating_invitation": "请对办理结果评价"}  # payload kinds queued by other modules (hotline/ratings)


def template_data(message: OutboxMessage) -> dict:
    p = message.payload or {}
    return {
        "first": {"value": p.get("title") or TITLES.get(p.get("kind"), "12345 热线通知")},
        "keyword1": {"value": p.get("number") or p.get("case_number") or ""},
        "keyword2": {"value": state_label(p.get("status") or "")},
        "remark": {"value": message.text},
    }


def client_msg_id(message: OutboxMessage) -> str:
    """WeChat's dedupe key of a template message (``client_msg_id``: one message per openid and id, kept for
    10 minutes): the outbox id, so a message resent after a killed relay is not shown twice."""
    return f"hotline-outbox-{message.id}"


@register("wechat")
def send(message: OutboxMessage, now=None) -> None:
    """Send one outbox message as a template message; raises on any refusal by WeChat (10 s timeout per call)."""
    settings = current_app.config["HOTLINE"]
    template_id = (message.payload or {}).get("template_id") or settings.wechat_template_notice
    if not template_id:
        raise RuntimeError("no WeChat template id (HOTLINE_WECHAT_TEMPLATE_NOTICE)")
    openid = cipher().decrypt(message.recipient)
    body = {
        "touser": openid,
        "template_id": template_id,
        "data": template_data(message),
        "client_msg_id": client_msg_id(message),
    }
    if url := (message.payload or {}).get("url"):
        body["url"] = url
    # wechatpy's send_template() has no client_msg_id: the same POST, with it
    answer = client().post("message/template/send", data=body)
    if answer.get("errcode", 0) != 0:  # wechatpy raises for errcode != 0 already; belt and braces
        raise RuntimeError(f"WeChat refused: {answer}")

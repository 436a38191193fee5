"""WeChat image / video / voice messages kept as evidence: the ``media`` job fetches the file from WeChat's media
API — a fake WeChat server (a real local HTTP server) behind the app's own WeChat client — and location messages
(GCJ-02) become the case's WGS-84 location."""

from __future__ import annotations

import io
import time
import uuid

import pytest
import sqlalchemy as sa
from PIL import Image

from hotline.evidence.geo import wgs84_to_gcj02
from hotline.extensions import db
from hotline.models import Attachment, Case, WechatMessage
from tests.evidence_support import jpeg_with_gps
from tests.fakes.wechat_api import FakeWeChat
from tests.helpers import run_jobs
from tests.integration.wechat_support import APPID, SECRET, TOKEN, reply_text, signed


@pytest.fixture()
def fake(app, monkeypatch):
    settings = app.config["HOTLINE"]
    for name, value in (
        ("wechat_token", TOKEN),
        ("wechat_appid", APPID),
        ("wechat_aes_key", ""),
        ("wechat_secret", SECRET),
        ("wechat_rate_limit", "1000 per minute"),
    ):
        monkeypatch.setattr(settings, name, value)
    with FakeWeChat(APPID, SECRET) as server:
        monkeypatch.setattr(settings, "wechat_api_base", server.url)
        yield server


def _xml(openid: str, msg_type: str, inner: str) -> bytes:
    msg_id = str(uuid.uuid4().int % 10**18)
    return (
        f"<xml><ToUserName><![CDATA[gh_hotline]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{inner}"
        f"<MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def _post(client, openid, msg_type, inner) -> str:
    resp = client.post("/wechat", query_string=signed(), data=_xml(openid, msg_type, inner), content_type="text/xml")
    assert resp.status_code == 200
    return reply_text(resp.get_data())


def _files(app, number: str) -> list[Attachment]:
    with app.app_context():
        case_id = db.session.scalar(sa.select(Case.id).where(Case.number == number))
        return list(db.session.scalars(sa.select(Attachment).where(Attachment.case_id == case_id)))


def test_image_message_ends_on_the_citizens_open_case_without_exif(app, api, fake):
    client, openid = app.test_client(), "o" + uuid.uuid4().hex[:27]
    reply = _post(client, openid, "text", "<Content><![CDATA[小区门口的垃圾桶满了三天没人清运，味道很大]]></Content>")
    number = reply.split("工单编号：")[1].split("。")[0]
    fake.media["MEDIA_IMG_1"] = (jpeg_with_gps(), "image/jpeg")
    reply = _post(
        client, openid, "image", "<PicUrl><![CDATA[http://mmbiz/x.jpg]]></PicUrl><MediaId>MEDIA_IMG_1</MediaId>"
    )
    assert number in reply and "材料" in reply
    assert _files(app, number) == []  # fetched by the media job, outside WeChat's 5-second window
    run_jobs(app)
    assert fake.media_requests == ["MEDIA_IMG_1"]
    (kept,) = _files(app, number)
    assert kept.source == "wechat" and kept.content_type == "image/jpeg"
    agent = api("agent1")
    data = agent.client.get(f"/api/v1/attachments/{kept.id}", headers=agent._headers()).get_data()
    assert not Image.open(io.BytesIO(data)).getexif() and b"TestPhone" not in data
    assert agent.get(f"/cases/{number}").get_json()["location"] is None  # no consent over WeChat: GPS dropped


def test_image_without_an_open_case_registers_one_and_a_failed_fetch_keeps_nothing(app, fake):
    client, openid = app.test_client(), "o" + uuid.uuid4().hex[:27]
    fake.media["MEDIA_IMG_2"] = (jpeg_with_gps(color=(0, 0, 200)), "image/jpeg")
    reply = _post(client, openid, "image", "<MediaId>MEDIA_IMG_2</MediaId>")
    assert "登记为工单" in reply and "请再发送文字" in reply
    number = reply.split("工单 ")[1].split(" ")[0].split("。")[0]
    run_jobs(app)
    assert [f.source for f in _files(app, number)] == ["wechat"]
    _post(client, openid, "video", "<MediaId>EXPIRED</MediaId><ThumbMediaId>T</ThumbMediaId>")
    run_jobs(app)
    assert len(_files(app, number)) == 1  # WeChat answered 40007 invalid media_id: logged, nothing stored
    with app.app_context():
        actions = set(db.session.scalars(sa.select(WechatMessage.action).where(WechatMessage.case_id.is_not(None))))
        assert "create" in actions


def test_voice_keeps_the_recording_and_location_sets_the_case_location(app, api, fake):
    client, openid = app.test_client(), "o" + uuid.uuid4().hex[:27]
    wgs = (39.9087, 116.3975)
    gcj = wgs84_to_gcj02(*wgs)
    _post(
        client,
        openid,
        "location",
        f"<Location_X>{gcj[0]:.7f}</Location_X><Location_Y>{gcj[1]:.7f}</Location_Y><Scale>15</Scale>"
        "<Label><![CDATA[东城区长安街]]></Label>",
    )
    fake.media["MEDIA_VOICE"] = (b"#!AMR\n" + bytes(range(256)) * 8, "audio/amr")
    reply = _post(
        client,
        openid,
        "voice",
        "<MediaId>MEDIA_VOICE</MediaId><Format>amr</Format><Recognition><![CDATA[长安街上的路灯不亮了请尽快修理。]]></Recognition>",
    )
    number = reply.split("工单编号：")[1].split("。")[0]
    run_jobs(app)
    (voice,) = _files(app, number)
    assert voice.content_type == "audio/amr" and voice.thumb_status == "none"
    location = api("agent1").get(f"/cases/{number}").get_json()["location"]
    assert location["source"] == "wechat"
    assert location["lat"] == pytest.approx(wgs[0], abs=1e-5) and location["long"] == pytest.approx(wgs[1], abs=1e-5)

"""/wechat against a hostile internet (issue 16): plain mode refused under an AES key, one use per signed URL,
replies that stay one well-formed message, MsgId checked, and the usability fixes (查询 anywhere, voice, location,
image, welcome once). An independent client: hand-made signatures, wechatpy's crypto (tests/integration/
wechat_support.py); every answer is parsed by an XML parser, never matched as text."""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import xmltodict

from hotline.evidence.geo import gcj02_to_wgs84
from hotline.extensions import db
from hotline.models import Case, ReplayGuard, WechatLocation, WechatMessage
from tests.integration.wechat_support import AES_KEY, APPID, TOKEN, WeChatClient, reply_text, signed, text_xml

NUMBER = re.compile(r"GD\d{8}-\d{6}")


@pytest.fixture()
def wechat(app, monkeypatch):
    """Plain mode (no AES key); ``aes`` below turns the key on."""
    settings = app.config["HOTLINE"]
    for name, value in (
        ("wechat_token", TOKEN),
        ("wechat_appid", APPID),
        ("wechat_aes_key", ""),
        ("wechat_rate_limit", "1000 per minute"),
    ):
        monkeypatch.setattr(settings, name, value)
    return WeChatClient(app.test_client())


@pytest.fixture()
def aes(app, wechat, monkeypatch):
    monkeypatch.setattr(app.config["HOTLINE"], "wechat_aes_key", AES_KEY)
    return wechat


def openid() -> str:
    return "o" + uuid.uuid4().hex[:27]


def msg_id() -> int:
    return uuid.uuid4().int % 10**18


def wechat_cases(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.channel == "wechat"))


def post(app, body: str | bytes, params: dict | None = None):
    data = body.encode() if isinstance(body, str) else body
    return app.test_client().post("/wechat", query_string=params or signed(), data=data, content_type="text/xml")


def message(openid_: str, msg_type: str, fields: str, mid=None) -> str:
    mid_xml = f"<MsgId>{mid if mid is not None else msg_id()}</MsgId>"
    return (
        f"<xml><ToUserName><![CDATA[gh_hotline]]></ToUserName><FromUserName><![CDATA[{openid_}]]></FromUserName>"
        f"<CreateTime>1795300000</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{fields}{mid_xml}</xml>"
    )


def register(wechat, user: str, text: str = "投诉：幸福路12号门口的路灯坏了两个星期，晚上很黑。") -> str:
    status, body = wechat.plain(user, text, msg_id())
    assert status == 200, body
    return NUMBER.search(reply_text(body)).group(0)


# --- safe mode: no plain messages while an AES key is set ---------------------------------------------------


def test_plain_message_is_refused_when_an_aes_key_is_set(app, aes):
    before = wechat_cases(app)
    status, body = aes.plain(openid(), "投诉：人民路口的下水道井盖丢失，夜里很危险。", msg_id())
    error = json.loads(body)["error"]
    assert status == 403 and error["code"] == "plain_message_refused" and "明文消息" in error["message"]
    assert wechat_cases(app) == before
    status, plain = aes.encrypted(openid(), "投诉：人民路口的下水道井盖丢失，夜里很危险。", msg_id())
    assert status == 200 and NUMBER.search(reply_text(plain))
    assert wechat_cases(app) == before + 1


def test_compatible_mode_reads_only_the_part_msg_signature_covers(app, aes):
    victim, sender = openid(), openid()
    number = NUMBER.search(reply_text(aes.encrypted(victim, "建议：中山公园夜间增加照明设施。", msg_id())[1])).group(0)
    # the clear part claims to be the victim; the signed encrypted part is the sender, who owns no case
    status, plain = aes.compatible(sender, f"查询 {number}", msg_id(), shown=victim)
    assert status == 200
    assert "没有找到" in reply_text(plain) and xmltodict.parse(plain)["xml"]["ToUserName"] == sender
    # a compatible-mode body whose msg_signature is missing is refused, whatever its clear part says
    params = signed(encrypt_type="aes")
    resp = post(app, text_xml(victim, f"查询 {number}", msg_id()), params)
    assert resp.status_code == 400 and resp.get_json()["error"]["fields"] == {"msg_signature": "缺少参数"}


# --- one use per signed URL ---------------------------------------------------------------------------------


def test_a_reused_signed_url_with_another_body_is_refused(app, wechat):
    victim, attacker_msg = openid(), openid()
    number = register(wechat, victim)
    leaked = signed()  # the query string of one genuine request, e.g. from an access log
    first = post(app, text_xml(attacker_msg, "第一条：公园厕所没有灯，晚上看不见。", msg_id()), leaked)
    assert first.status_code == 200
    before = wechat_cases(app)
    forged = post(app, text_xml(victim, "查询", msg_id()), leaked)  # same URL, forged FromUserName
    assert forged.status_code == 403 and forged.get_json()["error"]["code"] == "replayed_signature"
    assert number not in forged.get_data(as_text=True)
    again = post(app, text_xml(victim, "投诉：以受害人名义登记的虚假诉求内容。", msg_id()), leaked)
    assert again.status_code == 403 and wechat_cases(app) == before
    with app.app_context():
        key = f"{leaked['timestamp']}:{leaked['nonce']}"
        row = db.session.scalar(sa.select(ReplayGuard).where(ReplayGuard.scope == "wechat", ReplayGuard.key == key))
        assert row is not None and row.expires_at > datetime.now(UTC) + timedelta(minutes=9)


def test_one_leaked_url_sent_with_many_bodies_at_once_is_taken_once(app, wechat):
    from tests import counts
    from tests.helpers import at_once

    leaked, bodies = signed(), iter(range(100))
    before = wechat_cases(app)

    def forge():
        return post(app, text_xml(openid(), f"第{next(bodies)}条：冒名登记的诉求内容，路灯坏了。", msg_id()), leaked)

    codes = sorted(resp.status_code for resp in at_once(app, forge, n=6))
    assert codes == [200, 403, 403, 403, 403, 403]
    assert wechat_cases(app) == before + 1
    counts.report(
        f"wechat replay: one signed URL x6 bodies at once: {codes.count(200)} taken, {codes.count(403)} refused"
    )


def test_wechat_retrying_with_the_same_url_and_body_gets_the_first_answer(app, wechat):
    params, body = signed(), text_xml(openid(), "投诉：建设路夜间施工噪音很大，影响休息。", msg_id())
    before = wechat_cases(app)
    first, retry = post(app, body, params), post(app, body, params)
    assert first.status_code == retry.status_code == 200
    assert reply_text(first.get_data()) == reply_text(retry.get_data())
    assert wechat_cases(app) == before + 1


@pytest.mark.parametrize("age", [3600, -3600])
def test_timestamps_outside_the_window_are_refused(app, wechat, age):
    resp = post(app, text_xml(openid(), "投诉：路灯坏了很久了没人修。", msg_id()), signed(age=age))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "stale_signature"


def test_expired_guards_and_unused_locations_are_pruned(app):
    from hotline.wechat import replay

    now = datetime.now(UTC)
    with app.app_context():
        db.session.add_all(
            [
                ReplayGuard(scope="wechat", key="old:" + uuid.uuid4().hex, fingerprint="x", expires_at=now),
                ReplayGuard(
                    scope="wechat",
                    key="new:" + uuid.uuid4().hex,
                    fingerprint="x",
                    expires_at=now.replace(year=now.year + 1),
                ),
                WechatLocation(openid_hash="h-old", lat=1.0, lng=2.0, label="", received_at=now - timedelta(hours=1)),
                WechatLocation(openid_hash="h-new", lat=1.0, lng=2.0, label="", received_at=now),
            ]
        )
        db.session.commit()
        assert replay.prune(now + timedelta(seconds=1)) >= 2
        db.session.commit()
        keys = set(db.session.scalars(sa.select(ReplayGuard.key)))
        assert not any(k.startswith("old:") for k in keys) and any(k.startswith("new:") for k in keys)
        hashes = set(db.session.scalars(sa.select(WechatLocation.openid_hash)))
        assert "h-old" not in hashes and "h-new" in hashes


# --- replies: one well-formed message, whatever the text --------------------------------------------------


def test_a_reply_containing_the_cdata_terminator_stays_one_message(app, wechat, api):
    user = openid()
    number = register(wechat, user)
    injected = "已处理]]></Content><MsgType><![CDATA[news]]></MsgType><Content><![CDATA[点击领奖 http://evil.example"
    assert api("dispatcher1").post(f"/cases/{number}/dispatch", json={"department_code": "ZJJ"}).status_code == 200
    assert api("handler_zjj").post(f"/cases/{number}/sign", json={}).status_code == 200
    resp = api("handler_zjj").post(f"/cases/{number}/reply", json={"content": injected, "result": "resolved"})
    assert resp.status_code == 200
    status, body = wechat.plain(user, f"查询 {number}", msg_id())
    assert status == 200
    root = ET.fromstring(body)  # noqa: S314 — the server's own answer; raises unless well-formed
    assert [child.tag for child in root] == ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content"]
    assert root.findtext("MsgType") == "text" and injected in root.findtext("Content")


def test_encrypted_reply_with_the_terminator_is_one_message_too(app, aes, api):
    user = openid()
    status, plain = aes.encrypted(user, "投诉：解放路红绿灯不亮，早高峰很危险。", msg_id())
    number = NUMBER.search(reply_text(plain)).group(0)
    api("dispatcher1").post(f"/cases/{number}/dispatch", json={"department_code": "ZJJ"})
    api("handler_zjj").post(f"/cases/{number}/sign", json={})
    api("handler_zjj").post(f"/cases/{number}/reply", json={"content": "好]]><x>坏</x>", "result": "resolved"})
    status, plain = aes.encrypted(user, f"查询{number}", msg_id())
    root = ET.fromstring(plain)  # noqa: S314 — the server's own answer
    assert status == 200 and len(root.findall("MsgType")) == 1 and "好]]><x>坏</x>" in root.findtext("Content")


@pytest.mark.parametrize("bad", ["abc", "12a", "-1", "1" * 21, str(2**64), "１２３"])
def test_a_msgid_that_is_not_a_64_bit_number_is_a_clear_400(app, wechat, bad):
    before = wechat_cases(app)
    resp = post(app, message(openid(), "text", "<Content><![CDATA[投诉：路灯坏了很久了。]]></Content>", bad))
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_msg_id" and "MsgId" in error["message"]
    assert wechat_cases(app) == before


def test_a_msgid_of_another_openid_does_not_return_its_answer(app, wechat):
    victim, mid = openid(), msg_id()
    status, body = wechat.plain(victim, "投诉：和平路12号楼下餐馆油烟扰民。", mid)
    number = NUMBER.search(reply_text(body)).group(0)
    status, body = wechat.plain(openid(), "查询", mid)  # the victim's MsgId, someone else's openid
    assert status == 200 and number not in body


# --- usability ----------------------------------------------------------------------------------------------


def test_query_anywhere_in_a_short_message_answers_the_query(app, wechat):
    user = openid()
    number = register(wechat, user)
    before = wechat_cases(app)
    for text in (f"查询{number}谢谢", f"你好，帮我查询一下{number}", "帮我查询一下", f"{number}现在进度怎么样", "查詢"):
        status, body = wechat.plain(user, text, msg_id())
        answer = reply_text(body)
        assert status == 200 and number in answer and "已受理，工单编号" not in answer, (text, answer)
    assert wechat_cases(app) == before
    # a longer request that mentions 查询 is a request
    status, body = wechat.plain(user, "社保查询系统一直登录不上，提示密码错误，重置了也不行，请帮忙解决。", msg_id())
    assert "已受理" in reply_text(body) and wechat_cases(app) == before + 1


def test_voice_messages_use_the_recognised_text(app, wechat):
    user = openid()
    before = wechat_cases(app)
    voice = "<MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format>"
    recognised = "幸福路菜市场门口占道经营严重，车辆无法通行。"
    resp = post(app, message(user, "voice", voice + f"<Recognition><![CDATA[{recognised}]]></Recognition>"))
    number = NUMBER.search(reply_text(resp.get_data())).group(0)
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.content == recognised and case.channel == "wechat"
    resp = post(app, message(user, "voice", voice + "<Recognition><![CDATA[查询一下我的工单。]]></Recognition>"))
    assert number in reply_text(resp.get_data())
    hello = post(app, message(user, "voice", voice + "<Recognition><![CDATA[你好。]]></Recognition>"))
    assert "查询 工单编号" in reply_text(hello.get_data())  # the help text, not "at least 5 characters"
    empty = post(app, message(user, "voice", voice + "<Recognition><![CDATA[]]></Recognition>"))
    assert "没有识别出" in reply_text(empty.get_data()) and "文字" in reply_text(empty.get_data())
    assert wechat_cases(app) == before + 1


def test_a_location_is_attached_to_the_next_request(app, wechat):
    user = openid()
    where = "<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale>"
    resp = post(app, message(user, "location", where + "<Label><![CDATA[广州市天河区体育西路]]></Label>"))
    answer = reply_text(resp.get_data())
    assert resp.status_code == 200 and "广州市天河区体育西路" in answer and "描述" in answer
    number = register(wechat, user, "这里的井盖丢失了，晚上很危险，请尽快处理。")
    later = register(wechat, user, "另外：附近的路灯也坏了好几天了。")
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.address == "广州市天河区体育西路"
        place = db.session.scalar(sa.select(WechatLocation).where(WechatLocation.case_id == case.id))
        assert (place.lat, place.lng, place.scale) == (23.134521, 113.358803, 20)
        # the case keeps WGS-84: WeChat sends GCJ-02 (the Chinese map datum), converted once (issue 18)
        lat, lng = gcj02_to_wgs84(23.134521, 113.358803)
        assert (case.lat, case.lng, case.location_source) == (pytest.approx(lat), pytest.approx(lng), "wechat")
        assert abs(case.lat - 23.134521) < 0.01 and abs(case.lng - 113.358803) < 0.01  # a shift of a few hundred m
        assert db.session.scalar(sa.select(Case.address).where(Case.number == later)) == ""  # used once
    bad = post(app, message(user, "location", "<Location_X>abc</Location_X><Location_Y>999</Location_Y>"))
    assert bad.status_code == 200 and "没有识别出您发送的位置" in reply_text(bad.get_data())


def test_a_location_older_than_the_window_is_not_attached(app, wechat):
    from hotline.citizens.identities import wechat_hash
    from hotline.wechat import locations

    user = openid()
    with app.app_context():
        old = datetime.now(UTC) - locations.WINDOW - timedelta(minutes=1)
        db.session.add(
            WechatLocation(openid_hash=wechat_hash(user), lat=30.0, lng=120.0, label="旧位置", received_at=old)
        )
        db.session.commit()
    number = register(wechat, user)
    with app.app_context():
        assert db.session.scalar(sa.select(Case.address).where(Case.number == number)) == ""


def test_an_image_is_kept_as_evidence_and_a_description_asked_for(app, wechat):
    before = wechat_cases(app)  # no open case of this citizen: the picture opens one (issue 18, evidence)
    resp = post(app, message(openid(), "image", "<PicUrl><![CDATA[http://x/y.jpg]]></PicUrl><MediaId>m</MediaId>"))
    answer = reply_text(resp.get_data())
    assert resp.status_code == 200 and "已收到您的图片" in answer and "请再发送文字" in answer
    assert wechat_cases(app) == before + 1
    empty = post(app, message(openid(), "image", "<PicUrl><![CDATA[http://x/y.jpg]]></PicUrl>"))  # no MediaId
    assert "没有收到图片内容" in reply_text(empty.get_data()) and wechat_cases(app) == before + 1


def test_the_welcome_is_sent_once_per_openid(app, wechat):
    user = openid()
    event = (
        f"<xml><ToUserName>gh</ToUserName><FromUserName>{user}</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>event</MsgType><Event>subscribe</Event></xml>"
    )
    first, second, third = (reply_text(post(app, event).get_data()) for _ in range(3))
    assert "欢迎关注" in first and "查询 工单编号" in first
    assert "欢迎关注" not in second and second == third and "欢迎回来" in second
    other = reply_text(post(app, event.replace(user, openid())).get_data())
    assert "欢迎关注" in other


def test_every_answer_of_the_dedupe_row_is_kept(app, wechat):
    user, mid = openid(), msg_id()
    post(app, message(user, "image", "<PicUrl>http://x/y.jpg</PicUrl><MediaId>m1</MediaId>", mid))
    with app.app_context():
        row = db.session.scalar(sa.select(WechatMessage).where(WechatMessage.msg_id == str(mid)))
        assert (row.msg_type, row.action) == ("image", "create") and "图片" in row.reply

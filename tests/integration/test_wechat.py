"""/wechat with an independent client (wechatpy's crypto, hand-made signatures): handshake, plain and AES
messages, MsgId dedupe (also under concurrency), status queries, bad input, reply notices via a fake WeChat API."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Case, OutboxMessage, WechatMessage
from tests.fakes.wechat_api import FakeWeChat
from tests.helpers import run_jobs
from tests.integration.wechat_support import AES_KEY, APPID, SECRET, TOKEN, WeChatClient, reply_text, signed


@pytest.fixture()
def wechat(app, monkeypatch):
    """WeChat in plain mode (明文模式: no AES key configured); ``wechat_aes`` adds the key (安全模式)."""
    settings = app.config["HOTLINE"]
    for name, value in (
        ("wechat_token", TOKEN),
        ("wechat_appid", APPID),
        ("wechat_aes_key", ""),
        ("wechat_secret", SECRET),
        ("wechat_template_notice", "TPL-REPLY"),
        ("wechat_rate_limit", "1000 per minute"),
    ):
        monkeypatch.setattr(settings, name, value)
    return WeChatClient(app.test_client())


@pytest.fixture()
def wechat_aes(app, wechat, monkeypatch):
    monkeypatch.setattr(app.config["HOTLINE"], "wechat_aes_key", AES_KEY)
    return wechat


def openid() -> str:
    return "o" + uuid.uuid4().hex[:27]


def msg_id() -> int:
    return uuid.uuid4().int % 10**18


def counts(app) -> tuple[int, int]:
    with app.app_context():
        cases = db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.channel == "wechat"))
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(WechatMessage))
        return cases, rows


def case_number(text: str) -> str:
    import re

    return re.search(r"GD\d{8}-\d{6}", text).group(0)


def test_handshake(app, wechat):
    client = app.test_client()
    ok = client.get("/wechat", query_string=signed(echostr="echo-12345"))
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "echo-12345"
    forged = signed(echostr="x")
    forged["signature"] = "0" * 40
    bad = client.get("/wechat", query_string=forged)
    assert bad.status_code == 403 and bad.get_json()["error"]["code"] == "invalid_signature"
    assert "签名" in bad.get_json()["error"]["message"]
    other_token = client.get("/wechat", query_string=signed(token="not-our-token", echostr="x"))
    assert other_token.status_code == 403
    missing = client.get("/wechat", query_string={"echostr": "x"})
    assert missing.status_code == 400 and missing.get_json()["error"]["code"] == "missing_signature"
    stale = client.get("/wechat", query_string=signed(age=3600, echostr="x"))  # replayed an hour later
    assert stale.status_code == 403 and stale.get_json()["error"]["code"] == "stale_signature"
    no_echo = client.get("/wechat", query_string=signed())
    assert no_echo.status_code == 400 and no_echo.get_json()["error"]["fields"] == {"echostr": "缺少参数"}


def test_plain_message_creates_one_case_and_retry_creates_none(app, wechat):
    user, mid = openid(), msg_id()
    before = counts(app)
    status, body = wechat.plain(user, "投诉：幸福路12号小区门口的路灯坏了两个星期，晚上很黑。", mid)
    assert status == 200
    text = reply_text(body)
    number = case_number(text)
    assert "已受理" in text and f"查询 {number}" in text
    assert counts(app) == (before[0] + 1, before[1] + 1)
    # WeChat retries with the same MsgId: same answer, nothing new
    status2, body2 = wechat.plain(user, "投诉：幸福路12号小区门口的路灯坏了两个星期，晚上很黑。", mid)
    assert status2 == 200 and reply_text(body2) == text
    assert counts(app) == (before[0] + 1, before[1] + 1)
    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        assert case.channel == "wechat" and case.kind == "complaint" and case.status == "registered"
        assert case.phone.kind == "wechat" and user not in case.phone.masked and user not in case.phone.phone_enc
        assert [e.action for e in case.events] == ["create"] and case.events[0].actor_label == "市民（微信）"
        row = db.session.scalar(sa.select(WechatMessage).where(WechatMessage.msg_id == str(mid)))
        assert row.case_id == case.id and row.action == "create" and user not in row.openid_hash


def test_encrypted_message_creates_one_case_and_retry_creates_none(app, wechat_aes):
    wechat = wechat_aes
    user, mid = openid(), msg_id()
    before = counts(app)
    status, plain = wechat.encrypted(user, "请问新生儿医保怎么办理，需要带什么材料？", mid)
    assert status == 200
    text = reply_text(plain)  # the answer decrypts with wechatpy's crypto, so it was encrypted for us
    number = case_number(text)
    assert counts(app) == (before[0] + 1, before[1] + 1)
    again_status, again = wechat.encrypted(user, "请问新生儿医保怎么办理，需要带什么材料？", mid)
    assert again_status == 200 and case_number(reply_text(again)) == number
    assert counts(app) == (before[0] + 1, before[1] + 1)
    with app.app_context():
        assert db.session.scalar(sa.select(Case.kind).where(Case.number == number)) == "consult"


def test_same_msgid_delivered_concurrently_makes_one_case(app, wechat):
    user, mid = openid(), msg_id()
    before = counts(app)
    answers: list[tuple[int, str]] = []

    def deliver():
        answers.append(WeChatClient(app.test_client()).plain(user, "小区垃圾三天没有清运，气味很大。", mid))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [s for s, _ in answers] == [200] * 4
    assert counts(app) == (before[0] + 1, before[1] + 1)
    numbers = {case_number(reply_text(b)) for _, b in answers if b != "success"}
    assert len(numbers) == 1


def test_first_messages_of_a_new_user_at_once_share_one_citizen_file(app, wechat):
    user = openid()
    answers: list[tuple[int, str]] = []

    def deliver(i):
        answers.append(WeChatClient(app.test_client()).plain(user, f"第{i}条：公园厕所没有灯，晚上看不见。", msg_id()))

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = {case_number(reply_text(body)) for status, body in answers if status == 200}
    assert len(numbers) == 4
    with app.app_context():
        from hotline.citizens.identities import wechat_hash
        from hotline.models import CitizenPhone

        identities = db.session.scalars(sa.select(CitizenPhone).where(CitizenPhone.phone_hash == wechat_hash(user)))
        [identity] = identities.all()
        owners = set(db.session.scalars(sa.select(Case.citizen_id).where(Case.number.in_(numbers))))
        assert owners == {identity.citizen_id}


def test_status_query_answers_with_the_case_state(app, wechat, api):
    user = openid()
    _, body = wechat.plain(user, "幸福路菜市场门口占道经营严重，车辆无法通行。", msg_id())
    number = case_number(reply_text(body))
    _, answer = wechat.plain(user, f"查询 {number}", msg_id())
    assert f"工单 {number}" in reply_text(answer) and "当前状态：已受理" in reply_text(answer)

    assert api("dispatcher1").post(f"/cases/{number}/dispatch", json={"department_code": "ZJJ"}).status_code == 200
    assert api("handler_zjj").post(f"/cases/{number}/sign", json={}).status_code == 200
    _, answer = wechat.plain(user, f"查询{number.lower()}", msg_id())
    text = reply_text(answer)
    assert "当前状态：办理中" in text and "已接收，正在办理" in text
    with app.app_context():
        assert db.session.scalar(sa.select(Case.status).where(Case.number == number)) == "handling"

    # bare "查询" lists the citizen's recent cases
    _, listing = wechat.plain(user, "查询", msg_id())
    assert number in reply_text(listing) and "办理中" in reply_text(listing)
    # another WeChat user asking for this case gets the answer an unknown number gets
    _, foreign = wechat.plain(openid(), f"查询 {number}", msg_id())
    _, unknown = wechat.plain(openid(), "查询 GD20991231-999999", msg_id())
    assert "没有找到" in reply_text(foreign) and number not in reply_text(foreign).replace(f"工单 {number}", "")
    assert "没有找到" in reply_text(unknown)


def test_reply_notice_reaches_the_wechat_citizen_through_the_outbox(app, wechat, api, monkeypatch):
    user = openid()
    with FakeWeChat(APPID, SECRET) as fake:
        monkeypatch.setattr(app.config["HOTLINE"], "wechat_api_base", fake.url)
        monkeypatch.setattr(app.config["HOTLINE"], "portal_base_url", "https://12345.example.gov.cn/")
        _, body = wechat.plain(user, "龙城路口红绿灯不亮，早高峰很危险，请尽快修复。", msg_id())
        number = case_number(reply_text(body))
        api("dispatcher1").post(f"/cases/{number}/dispatch", json={"department_code": "ZJJ"})
        api("handler_zjj").post(f"/cases/{number}/sign", json={})
        resp = api("handler_zjj").post(
            f"/cases/{number}/reply", json={"content": "已安排维修，信号灯已恢复正常。", "result": "resolved"}
        )
        assert resp.status_code == 200
        with app.app_context():
            case_id = db.session.scalar(sa.select(Case.id).where(Case.number == number))
            queued = db.session.scalars(
                sa.select(OutboxMessage).where(OutboxMessage.case_id == case_id, OutboxMessage.channel == "wechat")
            ).all()
            # two notices: the reply (status link) and the rating invitation (好差评 link, hotline/ratings)
            kinds = sorted((m.payload or {}).get("kind", "reply") for m in queued)
            assert kinds == ["rating_invitation", "reply"]
            assert all(user not in m.recipient and number in m.text for m in queued)
            queued = [m for m in queued if (m.payload or {}).get("kind") != "rating_invitation"]
        run_jobs(app)
        sent = [t for t in fake.templates if t["data"]["keyword1"]["value"] == number]
        assert len(sent) == 2
        invitation = next(t for t in sent if t["data"]["first"]["value"] == "请对办理结果评价")
        assert invitation["touser"] == user and "/r/" in invitation["url"]
        sent = [t for t in sent if t is not invitation]
        assert sent[0]["touser"] == user and sent[0]["template_id"] == "TPL-REPLY"
        assert sent[0]["url"] == f"https://12345.example.gov.cn/portal/status?number={number}"
        assert "已安排维修" in sent[0]["data"]["remark"]["value"] and sent[0]["data"]["keyword2"]["value"] == "已答复"
        with app.app_context():
            message = db.session.get(OutboxMessage, queued[0].id)
            assert message.status == "sent" and message.attempts == 1
        # the query answer now carries the department's reply
        _, answer = wechat.plain(user, f"查询 {number}", msg_id())
        assert "已答复" in reply_text(answer) and "信号灯已恢复正常" in reply_text(answer)


def test_wechat_sender_refreshes_an_expired_token_and_retries_refusals(app, wechat, api, monkeypatch):
    with FakeWeChat(APPID, SECRET) as fake:
        monkeypatch.setattr(app.config["HOTLINE"], "wechat_api_base", fake.url)
        numbers = []
        for _ in range(2):
            user = openid()
            _, body = wechat.plain(user, "建议在人民公园增加夜间照明设施。", msg_id())
            numbers.append(case_number(reply_text(body)))
        for number in numbers:
            api("dispatcher1").post(f"/cases/{number}/dispatch", json={"department_code": "ZJJ"})
            api("handler_zjj").post(f"/cases/{number}/sign", json={})
        fake.expire_token()  # a token cached by an earlier test is now invalid: wechatpy fetches a new one
        fake.refuse_next = 1  # WeChat refuses the first send: the message stays pending and is retried
        for number in numbers:
            api("handler_zjj").post(f"/cases/{number}/reply", json={"content": "已采纳。", "result": "resolved"})
        run_jobs(app)
        with app.app_context():
            from workers.jobs.outbox import relay_outbox

            # the scheduler's periodic relay picks the refused one up again, after its back-off
            relay_outbox(now=datetime.now(UTC) + timedelta(minutes=5))
            rows = db.session.scalars(
                sa.select(OutboxMessage)
                .join(Case, Case.id == OutboxMessage.case_id)
                .where(Case.number.in_(numbers), OutboxMessage.channel == "wechat")
            ).all()
            assert len(rows) == 4  # per case: the reply notice and the rating invitation
            assert sorted(r.status for r in rows) == ["sent"] * 4
            assert sorted(r.attempts for r in rows) == [1, 1, 1, 2]
            assert any("45009" in r.last_error for r in rows)
        assert {t["data"]["keyword1"]["value"] for t in fake.templates} >= set(numbers)


def test_non_text_short_and_help_messages_create_nothing(app, wechat):
    client = app.test_client()
    before = counts(app)
    from tests.integration.wechat_support import text_xml

    image = client.post("/wechat", query_string=signed(), data=text_xml(openid(), "", msg_id(), "image"))
    assert "没有收到图片内容" in reply_text(image.get_data())  # no MediaId: nothing to keep (issue 18: evidence)
    video = client.post("/wechat", query_string=signed(), data=text_xml(openid(), "", msg_id(), "video"))
    assert "没有收到视频内容" in reply_text(video.get_data())
    music = client.post("/wechat", query_string=signed(), data=text_xml(openid(), "", msg_id(), "music"))
    assert "仅支持文字" in reply_text(music.get_data())
    _, short = wechat.plain(openid(), "你好啊", msg_id())
    assert "至少5个字" in reply_text(short)
    _, markup = wechat.plain(openid(), "<script>alert(1)</script> 路灯坏了", msg_id())
    assert "网页标记" in reply_text(markup)
    _, helptext = wechat.plain(openid(), "帮助", msg_id())
    assert "查询 工单编号" in reply_text(helptext)
    subscribe = client.post(
        "/wechat",
        query_string=signed(),
        data=(
            b"<xml><ToUserName>gh</ToUserName><FromUserName>oSub</FromUserName><CreateTime>1</CreateTime>"
            b"<MsgType>event</MsgType><Event>subscribe</Event></xml>"
        ),
    )
    assert "欢迎关注" in reply_text(subscribe.get_data())
    cases, _ = counts(app)
    assert cases == before[0]


@pytest.mark.parametrize("case", ["not xml", "empty", "no sender", "bad aes", "bad msg_signature", "wrong appid"])
def test_bad_input_is_refused_in_chinese_and_stores_nothing(app, wechat, case, monkeypatch):
    from wechatpy.crypto import WeChatCrypto

    from tests.integration.wechat_support import text_xml

    client = app.test_client()
    before = counts(app)
    params, body = signed(), b""
    if case == "not xml":
        body = b"hello <<<"
    elif case == "no sender":
        body = b"<xml><MsgType>text</MsgType><Content>abcdefg</Content><MsgId>1</MsgId></xml>"
    elif case in ("bad aes", "bad msg_signature", "wrong appid"):
        monkeypatch.setattr(app.config["HOTLINE"], "wechat_aes_key", AES_KEY)
        params = signed(encrypt_type="aes")
        crypto = WeChatCrypto(TOKEN, AES_KEY, "wxSOMEONEELSE0000" if case == "wrong appid" else APPID)
        import xmltodict

        env = xmltodict.parse(
            crypto.encrypt_message(text_xml(openid(), "路灯坏了很久了", msg_id()), params["nonce"], params["timestamp"])
        )["xml"]
        encrypt = "AAAA" + env["Encrypt"][4:] if case == "bad aes" else env["Encrypt"]
        params["msg_signature"] = "0" * 40 if case == "bad msg_signature" else env["MsgSignature"]
        if case == "bad aes":  # correctly signed garbage
            from wechatpy.crypto import _get_signature

            encrypt = "bm90IHJlYWxseSBlbmNyeXB0ZWQ="
            params["msg_signature"] = _get_signature(TOKEN, params["timestamp"], params["nonce"], encrypt)
        body = f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()
    resp = client.post("/wechat", query_string=params, data=body, content_type="text/xml")
    assert resp.status_code in (400, 403), resp.data
    error = resp.get_json()["error"]
    assert error["code"] and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    assert counts(app) == before


def test_not_configured_is_a_clear_503(app):
    resp = app.test_client().post("/wechat", data=b"<xml/>")
    assert resp.status_code == 503 and resp.get_json()["error"]["code"] == "wechat_not_configured"

"""WeChat end to end against real processes: the web process answers WeChat (AES mode, wechatpy's crypto on the
client side), the RQ worker relays the reply notice from the outbox to a fake WeChat API server over HTTP."""

from __future__ import annotations

import re
import time
import uuid

import pytest
import requests
import xmltodict

from tests.e2e.conftest import LiveStack
from tests.fakes.wechat_api import FakeWeChat
from tests.integration.wechat_support import AES_KEY, APPID, SECRET, TOKEN, WeChatClient, signed, text_xml


class _Requests:
    """The Flask-test-client surface WeChatClient uses, over real HTTP."""

    def __init__(self, url: str):
        self.url = url

    def post(self, path, query_string=None, data=None, content_type=None):
        resp = requests.post(
            self.url + path,
            params=query_string,
            data=data,
            timeout=10,
            headers={"Content-Type": content_type or "text/xml"},
        )
        return _Answer(resp)


class _Answer:
    def __init__(self, resp):
        self.status_code, self._resp = resp.status_code, resp

    def get_data(self, as_text=False):
        return self._resp.text if as_text else self._resp.content


@pytest.fixture(scope="module")
def wechat_stack(tmp_path_factory):
    with FakeWeChat(APPID, SECRET) as fake:
        live = LiveStack(tmp_path_factory.mktemp("wechat-stack"))
        live.env.update(
            HOTLINE_WECHAT_TOKEN=TOKEN,
            HOTLINE_WECHAT_APPID=APPID,
            HOTLINE_WECHAT_AES_KEY=AES_KEY,
            HOTLINE_WECHAT_SECRET=SECRET,
            HOTLINE_WECHAT_API_BASE=fake.url,
            HOTLINE_WECHAT_TEMPLATE_NOTICE="TPL-LIVE",
        )
        live.flask("db", "upgrade")
        live.flask("seed", "--demo")
        try:
            live.start_web("web", live.port)
            live.start("worker", "worker")
            yield live, fake
        finally:
            live.stop()


def test_encrypted_message_case_reply_and_template_notice(wechat_stack):
    live, fake = wechat_stack
    echo = requests.get(live.url + "/wechat", params=signed(echostr="live-echo"), timeout=10)
    assert echo.status_code == 200 and echo.text == "live-echo"

    client, user, mid = WeChatClient(_Requests(live.url)), "o" + uuid.uuid4().hex[:27], uuid.uuid4().int % 10**18
    status, plain = client.encrypted(user, "投诉：新华路口的下水道井盖丢失，晚上很危险。", mid)
    assert status == 200
    number = re.search(r"GD\d{8}-\d{6}", xmltodict.parse(plain)["xml"]["Content"]).group(0)
    again_status, again = client.encrypted(user, "重复", mid)
    assert again_status == 200 and number in again  # a retry of that MsgId gets the first answer
    plain = requests.post(live.url + "/wechat", params=signed(), data=text_xml(user, "明文", mid).encode(), timeout=10)
    assert plain.status_code == 403  # with an AES key configured, plain-mode messages are refused

    auth = {t: {"Authorization": f"Bearer {live.token(u)}"} for t, u in (("d", "dispatcher1"), ("h", "handler_zjj"))}
    for path, body, who in (
        (f"/cases/{number}/dispatch", {"department_code": "ZJJ"}, "d"),
        (f"/cases/{number}/sign", {}, "h"),
        (f"/cases/{number}/reply", {"content": "井盖已补装。", "result": "resolved"}, "h"),
    ):
        assert requests.post(live.url + "/api/v1" + path, json=body, headers=auth[who], timeout=10).status_code == 200
    deadline = time.monotonic() + 30

    def mine():  # the reply notice and the rating invitation (hotline/ratings), in either order
        return [t for t in fake.templates if t["data"]["keyword1"]["value"] == number]

    while time.monotonic() < deadline and len(mine()) < 2:
        time.sleep(0.2)
    sent = mine()
    assert len(sent) == 2 and all(t["touser"] == user and t["template_id"] == "TPL-LIVE" for t in sent)
    assert all("井盖已补装" in t["data"]["remark"]["value"] for t in sent)
    assert sorted(t["data"]["first"]["value"] for t in sent) == sorted(["您的诉求已有答复", "请对办理结果评价"])
    assert fake.token_requests >= 1

"""好差评 against a live stack: the rating page in real Chromium at a phone-sized viewport (screenshots under
test-artifacts/), and the rating.poor event arriving once at a real Socket.IO supervisor client."""

from __future__ import annotations

import queue
import subprocess
import sys
import time
import uuid

import pytest
import requests
import socketio

from tests.e2e.browser import ARTIFACTS, browser  # noqa: F401 — fixture
from tests.e2e.conftest import ROOT

PHONE_VIEWPORT = {"width": 390, "height": 844}
# The link as the citizen's SMS carries it (GET /outbox masks it for staff): read from the stack's outbox row.
SENT_LINK = """
import sys
import sqlalchemy as sa
from wsgi import app
from hotline.extensions import db
from hotline.models import Case, OutboxMessage
with app.app_context():
    case_id = db.session.scalar(sa.select(Case.id).where(Case.number == sys.argv[1]))
    rows = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.case_id == case_id)).all()
    print(next(m.payload["url"] for m in rows if (m.payload or {}).get("kind") == "rating_invitation"))
"""


def _sent_link(stack, number: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", SENT_LINK, number], cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


class EventClient:
    def __init__(self, url: str, token: str, names: tuple[str, ...]):
        self.events: queue.Queue = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        for name in names:
            self.sio.on(name, lambda data, name=name: self.events.put((name, data)), namespace="/console")
        self.sio.connect(url, namespaces=["/console"], auth={"token": token}, transports=["websocket"], wait_timeout=10)

    def drain(self, seconds: float) -> list[tuple[str, dict]]:
        out, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                out.append(self.events.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                break
        return out


@pytest.fixture(scope="module")
def people(stack):
    return {u: stack.token(u) for u in ("agent1", "dispatcher1", "handler_zjj", "supervisor1")}


def _call(stack, people, user, method, path, json=None):
    resp = requests.request(
        method, stack.url + "/api/v1" + path, json=json, timeout=15, headers={"Authorization": f"Bearer {people[user]}"}
    )
    assert resp.status_code < 300, (path, resp.status_code, resp.text)
    return resp.json()


def _replied_case_link(stack, people) -> tuple[str, str]:
    phone = "135" + f"{uuid.uuid4().int % 10**8:08d}"
    number = _call(
        stack,
        people,
        "agent1",
        "POST",
        "/cases",
        {
            "channel": "phone",
            "kind": "complaint",
            "content": "小区门口道路破损严重，雨天积水，老人出行不便。",
            "citizen_phone": phone,
            "citizen_name": "赵六",
            "district_code": "D01",
        },
    )["number"]
    _call(stack, people, "dispatcher1", "POST", f"/cases/{number}/dispatch", {"department_code": "ZJJ"})
    _call(stack, people, "handler_zjj", "POST", f"/cases/{number}/sign", {})
    _call(
        stack,
        people,
        "handler_zjj",
        "POST",
        f"/cases/{number}/reply",
        {"content": "已安排施工队修补路面并疏通排水口。", "result": "resolved"},
    )
    items = _call(stack, people, "supervisor1", "GET", f"/outbox?case={number}")["items"]
    assert any(m["kind"] == "rating_invitation" and m["link_masked"] for m in items)  # sent, link not shown
    url = _sent_link(stack, number)
    return number, stack.url + "/r/" + url.rsplit("/r/", 1)[1]


def test_rating_page_on_a_phone_and_rating_poor_live(stack, people, browser):  # noqa: F811
    supervisor = EventClient(stack.url, people["supervisor1"], ("rating.poor",))
    agent = EventClient(stack.url, people["agent1"], ("rating.poor",))
    try:
        number, link = _replied_case_link(stack, people)
        context = browser.new_context(
            viewport=PHONE_VIEWPORT, locale="zh-CN", is_mobile=True, has_touch=True, device_scale_factor=2
        )
        page = context.new_page()
        page.goto(link)
        assert number in page.inner_text(".rating-case")
        assert "已安排施工队" in page.inner_text(".rating-reply")
        labels = page.locator(".score-label").all_inner_texts()
        assert labels == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
        # fits the phone: no horizontal scrolling; touch targets are large
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
        assert page.locator(".score").first.bounding_box()["height"] >= 44
        page.screenshot(path=str(ARTIFACTS / "rating-phone.png"), full_page=True)

        normal = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.score-label')).fontSize)")
        page.click("#a11y-toggle")  # the portal's 大字模式 switch
        large = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.score-label')).fontSize)")
        assert large > normal * 1.2
        page.screenshot(path=str(ARTIFACTS / "rating-phone-large.png"), full_page=True)

        page.click(".score-1")
        page.check("input[name=resolved][value=no]")
        page.fill("textarea[name=comment]", "路面只修了一半，积水还在")
        page.click("button.submit")
        page.wait_for_selector(".rating-result")
        assert "感谢您的评价" in page.inner_text("h1")
        assert "非常不满意" in page.inner_text(".rating-result")
        page.screenshot(path=str(ARTIFACTS / "rating-phone-done.png"), full_page=True)

        # the same link again: already rated
        again = context.new_page()
        resp = again.goto(link)
        assert resp.status == 409 and "已评价" in again.inner_text("body")
        context.close()

        got = [d for name, d in supervisor.drain(5) if name == "rating.poor" and d["number"] == number]
        assert len(got) == 1, got
        assert got[0]["score"] == 1 and got[0]["resolved"] is False and got[0]["department_code"] == "ZJJ"
        assert not [d for _, d in agent.drain(0.5) if d["number"] == number]
        case = _call(stack, people, "supervisor1", "GET", f"/cases/{number}")
        assert case["ratings"][0]["comment"] == "路面只修了一半，积水还在"
        assert [e["action"] for e in case["events"]][-2:] == ["rate", "rating_poor"]
    finally:
        supervisor.sio.disconnect()
        agent.sio.disconnect()

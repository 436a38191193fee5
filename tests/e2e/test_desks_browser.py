"""The desks in real Chromium (issue 20): the to-do bell rises live on the dispatch page, the case list finds a
case by phone and by a content word, and the handler's inbox and case page fit a 390 px phone."""

from __future__ import annotations

import uuid

import requests

from hotline.seed.city import DEMO_PASSWORD
from tests.e2e.browser import ARTIFACTS, browser, login  # noqa: F401 — fixture


def api(stack, token: str, method: str, path: str, **kw):
    resp = requests.request(
        method, stack.url + "/api/v1" + path, timeout=15, headers={"Authorization": f"Bearer {token}"}, **kw
    )
    assert resp.status_code < 300, resp.text
    return resp.json()


def new_case(stack, token: str, phone: str, content: str) -> str:
    body = {
        "channel": "phone",
        "kind": "complaint",
        "content": content,
        "citizen_phone": phone,
        "citizen_name": "钱七",
        "address": "东城区人民路12号",
        "district_code": "D01",
        "category": "环境保护",
    }
    return api(stack, token, "POST", "/cases", json=body)["number"]


def test_bell_rises_live_and_search_finds_by_phone_and_word(stack, browser):  # noqa: F811
    agent, dispatcher, handler = (stack.token(u) for u in ("agent1", "dispatcher1", "handler_zjj"))
    phone = "136" + f"{uuid.uuid4().int % 10**8:08d}"
    word = "桥" + uuid.uuid4().hex[:4]
    number = new_case(stack, agent, phone, f"{word}下的排水沟堵塞，下雨就积水。")
    version = api(stack, dispatcher, "GET", f"/cases/{number}")["version"]
    api(stack, dispatcher, "POST", f"/cases/{number}/dispatch", json={"department_code": "ZJJ", "version": version})

    page = login(browser, stack.url, "dispatcher1", DEMO_PASSWORD)
    assert "/dispatch" in page.url  # the dispatcher's home page
    page.wait_for_selector("#live-status[data-state=up]", timeout=15000)
    before = int(page.text_content("#bell [data-bell-count]"))
    case = api(stack, handler, "GET", f"/cases/{number}")
    api(
        stack,
        handler,
        "POST",
        f"/cases/{number}/return",
        json={"reason": "不属于本单位职责", "version": case["version"]},
    )
    page.wait_for_function(
        "(n) => parseInt(document.querySelector('#bell [data-bell-count]').textContent, 10) > n",
        arg=before,
        timeout=20000,
    )
    page.wait_for_selector(".toast", timeout=5000)
    page.screenshot(path=str(ARTIFACTS / "desks-bell-dispatch.png"))
    page.click("#bell")
    page.wait_for_selector(f"text={number}")
    page.screenshot(path=str(ARTIFACTS / "desks-notifications.png"))

    for q in (phone, word):
        page.goto(stack.url + "/cases")
        page.fill("#f-q", q)
        page.click("form.filters button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert page.locator(f"tbody a:has-text('{number}')").count() == 1, q
    page.screenshot(path=str(ARTIFACTS / "desks-search.png"))
    page.context.close()


def test_handler_pages_fit_a_phone(stack, browser):  # noqa: F811
    agent, dispatcher = stack.token("agent1"), stack.token("dispatcher1")
    number = new_case(stack, agent, "137" + f"{uuid.uuid4().int % 10**8:08d}", "小区门口的路灯坏了一个多月，晚上很黑。")
    version = api(stack, dispatcher, "GET", f"/cases/{number}")["version"]
    api(stack, dispatcher, "POST", f"/cases/{number}/dispatch", json={"department_code": "ZJJ", "version": version})
    page = login(browser, stack.url, "handler_zjj", DEMO_PASSWORD, viewport={"width": 390, "height": 844})
    for path, shot in (("/dept/", "desks-inbox-390.png"), (f"/cases/{number}", "desks-case-390.png")):
        page.goto(stack.url + path)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
        widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], (path, widths)
    page.context.close()


def test_mention_in_a_note_reaches_the_handler_live(stack, browser):  # noqa: F811
    agent, dispatcher = stack.token("agent1"), stack.token("dispatcher1")
    number = new_case(stack, agent, "138" + f"{uuid.uuid4().int % 10**8:08d}", "人行道上的护栏被撞坏了，存在安全隐患。")
    version = api(stack, dispatcher, "GET", f"/cases/{number}")["version"]
    api(stack, dispatcher, "POST", f"/cases/{number}/dispatch", json={"department_code": "ZJJ", "version": version})
    handler = login(browser, stack.url, "handler_zjj", DEMO_PASSWORD)
    handler.wait_for_selector("#live-status[data-state=up]", timeout=15000)
    before = int(handler.text_content("#bell [data-bell-count]"))

    page = login(browser, stack.url, "dispatcher1", DEMO_PASSWORD)
    page.goto(stack.url + f"/cases/{number}")
    page.fill("#note-text", "@handler_zjj 请今天到现场核实护栏损坏情况")
    page.click("#case-notes button[type=submit]")
    page.wait_for_selector("#case-notes >> text=请今天到现场核实")
    page.screenshot(path=str(ARTIFACTS / "desks-note.png"))
    handler.wait_for_function(
        "(n) => parseInt(document.querySelector('#bell [data-bell-count]').textContent, 10) > n",
        arg=before,
        timeout=20000,
    )
    handler.wait_for_selector(".toast >> text=内部备注", timeout=5000)
    handler.screenshot(path=str(ARTIFACTS / "desks-mention-toast.png"))
    page.context.close()
    handler.context.close()


def test_inbox_tab_counter_follows_a_new_dispatch_live(stack, browser):  # noqa: F811
    agent, dispatcher = stack.token("agent1"), stack.token("dispatcher1")
    page = login(browser, stack.url, "handler_zjj", DEMO_PASSWORD)
    page.goto(stack.url + "/dept/")
    page.wait_for_selector("#live-status[data-state=up]", timeout=15000)
    before = int(page.text_content("nav.tabs a:first-child .count"))
    number = new_case(stack, agent, "135" + f"{uuid.uuid4().int % 10**8:08d}", "公园里的健身器材损坏，孩子容易受伤。")
    version = api(stack, dispatcher, "GET", f"/cases/{number}")["version"]
    api(stack, dispatcher, "POST", f"/cases/{number}/dispatch", json={"department_code": "ZJJ", "version": version})
    page.wait_for_function(
        "(n) => parseInt(document.querySelector('nav.tabs a:first-child .count').textContent, 10) > n",
        arg=before,
        timeout=20000,
    )
    page.context.close()

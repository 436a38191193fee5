"""The public pages on a phone (390 px, WeChat's browser) against a live stack: the 曝光台 with a case the citizen
agreed to show at intake and a supervisor published, redacted; and the public KB search. Screenshots saved."""

from __future__ import annotations

import uuid

import requests

from tests.e2e.browser import ARTIFACTS, browser  # noqa: F401 — fixture
from tests.e2e.test_portal_browser import _fits, _phone_page, _solve


def _api(stack, username):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {stack.token(username)}"
    return session


def test_exposure_and_guide_on_a_phone(stack, browser):  # noqa: F811
    page = _phone_page(browser)
    phone = "136" + f"{uuid.uuid4().int % 10**8:08d}"
    page.goto(stack.url + "/portal/submit")
    page.fill("#phone", phone)
    page.fill("#content", "建设路12号楼下烧烤摊每晚油烟很大，本人手机13812345678，希望尽快处理。")
    page.fill("#answer", _solve(page))
    page.check("#public_consent")
    page.wait_for_timeout(2100)
    page.click("#request-form button[type=submit]")
    page.wait_for_selector("#case-number")
    number = page.inner_text("#case-number").strip()

    base = stack.url + "/api/v1"
    for user, path, body in (
        ("dispatcher1", f"/cases/{number}/dispatch", {"department_code": "ZJJ"}),
        ("handler_zjj", f"/cases/{number}/sign", None),
        (
            "handler_zjj",
            f"/cases/{number}/reply",
            {"content": "已取缔占道烧烤摊点，油烟问题已解决。", "result": "resolved"},
        ),
        ("supervisor1", f"/cases/{number}/publication", {"public": True}),
    ):
        resp = _api(stack, user).post(base + path, json=body)
        assert resp.status_code == 200, (path, resp.text)

    page.goto(stack.url + "/portal/exposure")
    card = page.locator(f"article[data-number='{number}']")
    card.wait_for()
    text = card.inner_text()
    assert "烧烤摊" in text and "13812345678" not in text and "12号" not in text and "[电话]" in text
    assert "市住房和城乡建设局" in text and "已解决" in text
    assert _fits(page)
    page.screenshot(path=str(ARTIFACTS / "portal-exposure-phone.png"), full_page=True)

    page.goto(stack.url + "/portal/guide")
    entry = _api(stack, "agent1").get(base + "/kb/search", params={"q": "社保"}).json()["results"][0]["title"]
    page.fill("#q", entry)
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector(".p-result")
    assert entry in page.inner_text(".p-result >> nth=0") or entry in page.content()
    assert _fits(page)
    page.screenshot(path=str(ARTIFACTS / "portal-guide-phone.png"), full_page=True)
    page.click(".p-result h3 a >> nth=0")
    page.wait_for_selector("h1")
    assert _fits(page)
    page.screenshot(path=str(ARTIFACTS / "portal-guide-entry-phone.png"), full_page=True)

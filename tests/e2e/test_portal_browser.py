"""Citizen pages in headless Chromium at a phone-sized viewport (WeChat's in-app browser user agent), against a
live stack: submit a request, look up its status and the department's reply, the large-font switch."""

from __future__ import annotations

import re
import uuid

import requests

from tests.e2e.browser import ARTIFACTS, browser  # noqa: F401 — fixture

PHONE_VIEWPORT = {"width": 390, "height": 844}
WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"
)
DIGITS = "零一二三四五六七八九十"


def _phone_page(browser):  # noqa: F811
    context = browser.new_context(
        viewport=PHONE_VIEWPORT,
        locale="zh-CN",
        user_agent=WECHAT_UA,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    return context.new_page()


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _solve(page) -> str:
    a, op, b = re.search(r"(\S) (加|减) (\S) 等于几", page.inner_text("#request-form")).groups()
    return str(DIGITS.index(a) + DIGITS.index(b) if op == "加" else DIGITS.index(a) - DIGITS.index(b))


def test_submit_status_and_large_font_on_a_phone(stack, browser):  # noqa: F811
    page = _phone_page(browser)
    phone = "135" + f"{uuid.uuid4().int % 10**8:08d}"

    page.goto(stack.url + "/portal/submit")
    assert _fits(page)
    page.click("#request-form button[type=submit]")  # empty form: messages in Chinese, nothing sent
    page.wait_for_selector(".p-summary")
    assert "请填写手机号码" in page.content() and "请填写诉求内容" in page.content()
    page.screenshot(path=str(ARTIFACTS / "portal-submit-errors.png"), full_page=True)

    page.fill("#phone", phone)
    page.click("label.p-pill:has-text('投诉')")
    page.fill("#content", "东风路菜市场每天凌晨四点开始卸货，噪音很大，影响附近居民休息。")
    page.select_option("#district", "D01")
    page.fill("#address", "东风路菜市场")
    page.fill("#answer", _solve(page))
    page.screenshot(path=str(ARTIFACTS / "portal-submit.png"), full_page=True)
    page.wait_for_timeout(2100)  # a person takes longer than the minimum fill time
    page.click("#request-form button[type=submit]")
    page.wait_for_selector("#case-number")
    number = page.inner_text("#case-number").strip()
    assert re.fullmatch(r"GD\d{8}-\d{6}", number) and "提交成功" in page.content()
    assert _fits(page)
    page.screenshot(path=str(ARTIFACTS / "portal-submit-done.png"), full_page=True)

    page.click("a.p-btn-main:has-text('查询办理进度')")
    assert page.input_value("#number") == number
    page.fill("#phone", "13700000000")  # a wrong phone: "not found", nothing about the case
    page.click("#status-form button[type=submit]")
    page.wait_for_selector("#not-found")
    assert "已受理" not in page.content()
    page.fill("#phone", phone)
    page.click("#status-form button[type=submit]")
    page.wait_for_selector("#status-result")
    assert page.inner_text("#case-state") == "已受理"
    assert "您的诉求已登记（网站受理）" in page.inner_text("#case-timeline")
    page.screenshot(path=str(ARTIFACTS / "portal-status.png"), full_page=True)

    headers = {"Authorization": f"Bearer {stack.token('dispatcher1')}"}
    handler = {"Authorization": f"Bearer {stack.token('handler_shj')}"}
    for url, body, who in (
        (f"/cases/{number}/dispatch", {"department_code": "SHJ"}, headers),
        (f"/cases/{number}/sign", {}, handler),
        (
            f"/cases/{number}/reply",
            {"content": "已约谈市场管理方，卸货时间调整为早上六点以后。", "result": "resolved"},
            handler,
        ),
    ):
        assert requests.post(stack.url + "/api/v1" + url, json=body, headers=who, timeout=10).status_code == 200
    page.goto(f"{stack.url}/portal/status?number={number}")
    page.fill("#phone", phone)
    page.click("#status-form button[type=submit]")
    page.wait_for_selector("#case-reply")
    assert page.inner_text("#case-state") == "已答复"
    assert "卸货时间调整为早上六点以后" in page.inner_text("#case-reply")
    assert _fits(page)
    page.screenshot(path=str(ARTIFACTS / "portal-status-replied.png"), full_page=True)

    normal_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    page.click("#a11y-toggle")  # in place, no reload: the reply stays on screen
    assert page.get_attribute("html", "class") == "large" and page.is_visible("#case-reply")
    large_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert large_size >= normal_size * 1.3
    assert page.inner_text("#a11y-toggle") == "标准字体"
    assert _fits(page)
    page.screenshot(path=str(ARTIFACTS / "portal-status-large.png"), full_page=True)
    page.goto(stack.url + "/portal/submit")  # remembered on the next page, rendered by the server
    assert page.get_attribute("html", "class") == "large"
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == large_size
    page.screenshot(path=str(ARTIFACTS / "portal-submit-large.png"), full_page=True)
    page.click("#a11y-toggle")
    page.reload()
    assert page.get_attribute("html", "class") in ("", None)
    page.context.close()


def test_large_font_link_works_without_javascript(stack, browser):  # noqa: F811
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(stack.url + "/portal/")
    page.click("#a11y-toggle")
    page.wait_for_load_state()
    assert page.url.endswith("/portal/") and page.get_attribute("html", "class") == "large"
    context.close()


def test_throttle_page_on_a_phone(stack, browser):  # noqa: F811
    session = requests.Session()
    for _ in range(15):  # wrong answers count too: use up this address's submissions for the minute
        html = session.get(stack.url + "/portal/submit", timeout=10).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        resp = session.post(
            stack.url + "/portal/submit",
            timeout=10,
            data={
                "csrf_token": token,
                "phone": "135" + f"{uuid.uuid4().int % 10**8:08d}",
                "kind": "help",
                "content": "测试限流的提交内容",
                "answer": "x",
            },
        )
        if resp.status_code == 429:
            break
    assert resp.status_code == 429
    page = _phone_page(browser)
    page.goto(stack.url + "/portal/submit")
    page.fill("#phone", "135" + f"{uuid.uuid4().int % 10**8:08d}")
    page.fill("#content", "小区门口路灯不亮，晚上出行不便。")
    page.fill("#answer", _solve(page))
    page.wait_for_timeout(2100)
    page.click("#request-form button[type=submit]")
    page.wait_for_selector("#p-message")
    assert "您提交得太频繁了" in page.inner_text("#p-message") and "12345" in page.inner_text("#p-message")
    assert page.input_value("#kept") == "小区门口路灯不亮，晚上出行不便。"  # what they wrote is not lost
    assert _fits(page)
    page.screenshot(path=str(ARTIFACTS / "portal-throttled.png"), full_page=True)
    page.context.close()

"""The KB in the agent console, in real Chromium against a live server: suggestions while typing, the ??
shortcut, insert an answer, answer and close with the entry cited in the timeline."""

from __future__ import annotations

import uuid

import requests

from hotline.seed.city import DEMO_PASSWORD
from tests.e2e.browser import ARTIFACTS, browser, login  # noqa: F401 — fixture


def test_console_suggestions_and_answer_and_close(stack, browser):  # noqa: F811
    page = login(browser, stack.url, "agent1", DEMO_PASSWORD)
    assert page.url.endswith("/console")
    phone = "137" + f"{uuid.uuid4().int % 10**8:08d}"
    page.fill("input[name=phone]", phone)
    page.click("textarea[name=content]")
    page.keyboard.type("市民来电咨询：在外面租房子住，想问问怎么提取公积金，要带什么材料", delay=15)
    hit = page.wait_for_selector("#kb-results li.kb-hit:has-text('租房提取住房公积金')", timeout=10000)
    assert "GJJ-003" in hit.inner_text()
    page.screenshot(path=str(ARTIFACTS / "kb-console-suggestions.png"), full_page=True)

    hit.query_selector("button.kb-use").click()
    page.wait_for_selector("#kb-answer-box:not([hidden])", timeout=5000)
    page.wait_for_function("() => document.getElementById('kb-answer').value.includes('申请材料')", timeout=5000)
    assert "GJJ-003" in page.inner_text("#kb-cite")
    page.click("#kb-answer-close")
    page.wait_for_url("**/cases/GD*", timeout=15000)
    number = page.url.rsplit("/", 1)[1]
    cite = page.wait_for_selector(".ev-cite", timeout=5000).inner_text()
    assert "GJJ-003" in cite and "租房提取住房公积金" in cite
    page.screenshot(path=str(ARTIFACTS / "kb-answer-and-close.png"), full_page=True)

    token = stack.token("agent2")
    case = requests.get(
        f"{stack.url}/api/v1/cases/{number}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    assert case["status"] == "closed" and case["events"][-1]["action"] == "answer"
    assert case["events"][-1]["data"]["kb_code"] == "GJJ-003"


def test_double_question_mark_shortcut_searches(stack, browser):  # noqa: F811
    page = login(browser, stack.url, "agent2", DEMO_PASSWORD)
    page.click("textarea[name=content]")
    page.keyboard.type("市民说店里的营业执照不见了 ??营业执找补办", delay=10)
    page.keyboard.press("Enter")
    page.wait_for_selector("#kb-results li.kb-hit:has-text('营业执照遗失补领')", timeout=10000)
    assert page.input_value("#kb-q") == "营业执找补办"
    assert "??" not in page.input_value("textarea[name=content]")  # the shortcut left the case text
    page.click("#kb-notfound")
    page.wait_for_function("() => document.getElementById('kb-status').textContent.includes('已反馈')", timeout=5000)

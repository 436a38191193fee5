"""The console's routing hints in real Chromium: emergency banner with one-click transfer, duplicate warning
while typing (并单), out-of-scope guidance."""

from __future__ import annotations

import time
import uuid

import requests

from hotline.seed.city import DEMO_PASSWORD
from tests.e2e.browser import ARTIFACTS, browser, login  # noqa: F401 — fixture


def _wait_routed(stack, token: str, number: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = requests.get(
            f"{stack.url}/api/v1/cases/{number}/routing", timeout=10, headers={"Authorization": f"Bearer {token}"}
        ).json()
        if not body["pending"]:
            return
        time.sleep(0.2)
    raise AssertionError(f"{number} was not routed within {timeout}s")


def test_console_hints_duplicates_emergency_transfer(stack, browser):  # noqa: F811
    token = stack.token("agent2")
    text = f"光明路66号光明小区门口的下水道堵塞，污水漫到人行道上已经三天了{uuid.uuid4().hex[:4]}"
    earlier = requests.post(
        stack.url + "/api/v1/cases",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
        json={
            "channel": "phone",
            "kind": "complaint",
            "content": text,
            "address": "光明路66号",
            "citizen_phone": "13600001111",
        },
    ).json()
    _wait_routed(stack, token, earlier["number"])  # the worker's routing job stores its duplicate-check keys
    page = login(browser, stack.url, "agent1", DEMO_PASSWORD)
    page.fill("input[name=phone]", "139" + f"{uuid.uuid4().int % 10**8:08d}")
    page.fill("input[name=address]", "光明路66号")
    page.fill("textarea[name=content]", "光明小区门口下水道堵了，污水漫到人行道上")
    page.wait_for_selector("#routing-hints:not([hidden]) a.mono", timeout=10000)
    assert earlier["number"] in page.inner_text("#routing-hints")
    assert page.query_selector("#transfer-button") is None  # not an emergency

    page.fill("textarea[name=content]", "我想起诉物业公司，法院怎么立案")
    page.wait_for_function(
        "() => document.getElementById('routing-hints').innerText.includes('不属于派单范围')", timeout=10000
    )

    page.fill("input[name=address]", "")
    page.fill("textarea[name=content]", "楼下饭店着火了，浓烟很大，里面还有人")
    page.wait_for_selector("#transfer-button", timeout=10000)
    assert "请立即转接 119" in page.inner_text("#routing-hints")
    page.screenshot(path=str(ARTIFACTS / "console-emergency-banner.png"), full_page=True)
    page.click("#transfer-button")
    page.wait_for_url("**/cases/GD*")
    assert "已转119（消防）并记录" in page.content()
    number = page.url.rsplit("/", 1)[1]
    case = requests.get(
        f"{stack.url}/api/v1/cases/{number}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    assert case["status"] == "closed" and case["events"][-1]["action"] == "transfer"

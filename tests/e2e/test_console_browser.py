"""The agent console in real Chromium: a call pops the file, a new case reaches another agent live."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

import requests

from hotline.seed.city import DEMO_PASSWORD
from tests.e2e.browser import ARTIFACTS, browser, login  # noqa: F401 — fixture

SECRET = "e2e-cti-secret"


def ring(url: str, call_id: str, caller: str, agent: str):
    raw = json.dumps(
        {
            "event": "ringing",
            "call_id": call_id,
            "caller": caller,
            "callee": "12345",
            "agent": agent,
            "at": datetime.now(UTC).isoformat(),
        }
    ).encode()
    sig = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    resp = requests.post(
        url + "/api/v1/cti/events",
        data=raw,
        timeout=10,
        headers={"Content-Type": "application/json", "X-Hotline-Signature": sig},
    )
    assert resp.status_code == 200, resp.text


def test_call_pop_and_live_team_queue(stack, browser):  # noqa: F811
    phone = "136" + f"{uuid.uuid4().int % 10**8:08d}"
    token = stack.token("agent3")
    earlier = requests.post(
        stack.url + "/api/v1/cases",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
        json={
            "channel": "phone",
            "kind": "consult",
            "content": "咨询新生儿落户需要哪些材料？",
            "citizen_phone": phone,
            "citizen_name": "钱七",
        },
    ).json()

    agent1 = login(browser, stack.url, "agent1", DEMO_PASSWORD)
    agent2 = login(browser, stack.url, "agent2", DEMO_PASSWORD)
    for page in (agent1, agent2):
        assert page.url.endswith("/console")
        page.wait_for_selector("#live-status[data-state=up]", timeout=15000)

    call_id = "pw-" + uuid.uuid4().hex[:8]
    ring(stack.url, call_id, phone, "agent1")
    agent1.wait_for_selector("#call-panel:not([hidden])", timeout=5000)
    assert agent1.inner_text("#call-caller") == phone[:3] + "****" + phone[-4:]
    assert earlier["number"] in agent1.inner_text("#call-open")
    assert agent2.is_hidden("#call-panel")  # the call was for agent1 only
    agent1.screenshot(path=str(ARTIFACTS / "console-call-pop.png"), full_page=True)

    agent1.click("#call-use")
    agent1.check("input[name=kind][value=help]", force=True)
    agent1.fill("textarea[name=content]", "家门口的路灯坏了一周，晚上很黑，老人出行不便。")
    agent1.click("#case-form button[type=submit]")
    agent1.wait_for_url("**/cases/GD*")
    number = agent1.url.rsplit("/", 1)[1]
    assert call_id in agent1.content()  # linked to the call

    agent2.wait_for_selector(f"#team-queue li[data-number='{number}']", timeout=5000)
    assert agent2.url.endswith("/console")  # no reload happened: same page, updated in place
    agent2.screenshot(path=str(ARTIFACTS / "console-live-queue.png"), full_page=True)
    lookup = requests.get(
        f"{stack.url}/api/v1/cases/{number}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    assert lookup["call_id"] == call_id and lookup["citizen"]["phone"] == phone[:3] + "****" + phone[-4:]

"""Internal notes with @mentions: stored, listed to staff, the mentioned user and unit notified, never on the
citizen's status page; unknown mentions and empty notes refused in Chinese."""

from __future__ import annotations

import uuid

from tests.helpers import run_jobs
from tests.integration.test_pages import Browser


def test_note_mentions_notify_user_and_unit_and_stay_internal(app, api, make_case):
    case = make_case("dispatched", unit="SHJ")
    text = f"请 @handler_zjj 和 @SHJ 协助核实现场 {uuid.uuid4().hex[:6]}"
    resp = api("dispatcher1").post(f"/cases/{case.number}/notes", json={"text": text})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert [m["kind"] for m in body["mentions"]] == ["user", "unit"]
    run_jobs(app)
    for username in ("handler_zjj", "handler_shj"):
        items = api(username).get("/notifications").get_json()["items"]
        assert any(n["case_number"] == case.number and "内部备注" in n["text"] for n in items), username
    assert [n["text"] for n in api("handler_shj").get(f"/cases/{case.number}/notes").get_json()["items"]] == [text]
    assert api("handler_zjj").get(f"/cases/{case.number}/notes").status_code in (403, 404)  # not its case
    page = Browser(app, "handler_shj").html(f"/cases/{case.number}")
    assert text in page and "仅工作人员可见" in page
    status = app.test_client().get(f"/portal/status?number={case.number}").get_data(as_text=True)
    assert text not in status


def test_bad_notes_are_refused_in_chinese(api, make_case):
    case = make_case("registered")
    unknown = api("dispatcher1").post(f"/cases/{case.number}/notes", json={"text": "@没有这个人 看一下"})
    assert unknown.status_code == 400 and "找不到被提到的人员或单位" in unknown.get_json()["error"]["message"]
    empty = api("dispatcher1").post(f"/cases/{case.number}/notes", json={"text": "   "})
    assert empty.status_code == 400

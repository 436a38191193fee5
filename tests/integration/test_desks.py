"""The to-do centre and desk pages: notices (list, mark read, the bell), role home pages, saved filters, the
citizen file opened by phone (audited), the case list searching by phone and content."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from tests.helpers import new_case, run_jobs
from tests.integration.test_pages import Browser


def delete(client, path: str):
    return client.client.delete("/api/v1" + path, headers=client._headers())


def _notices(api, username: str) -> list[dict]:
    resp = api(username).get("/notifications")
    assert resp.status_code == 200
    return resp.get_json()["items"]


def test_notices_are_listed_marked_read_and_counted_on_the_bell(app, api, make_case):
    case = make_case("dispatched", unit="SHJ")  # dispatch queues a 新工单 notice for the unit's users
    run_jobs(app)
    items = _notices(api, "handler_shj")
    mine = [n for n in items if n["case_number"] == case.number]
    assert mine and set(mine[0]) == {"id", "text", "case_number", "created_at", "read"}  # shape unchanged
    assert mine[0]["read"] is False
    page = Browser(app, "handler_shj")
    html = page.html("/notifications")
    assert case.number in html and "去处理" in html
    unread = len([n for n in items if not n["read"]])
    assert f"data-bell-count>{unread}<" in page.html("/dept/")

    resp = api("handler_shj").post("/notifications/read", json={"ids": [mine[0]["id"]]})
    assert resp.status_code == 200 and resp.get_json() == {"marked": 1, "unread": unread - 1}
    assert next(n for n in _notices(api, "handler_shj") if n["id"] == mine[0]["id"])["read"] is True
    # someone else's notice is not theirs to mark
    other = api("handler_zjj").post("/notifications/read", json={"ids": [mine[0]["id"] + 0]})
    assert other.get_json()["marked"] == 0
    bad = api("handler_shj").post("/notifications/read", json={"ids": ["x"]})
    assert bad.status_code == 400 and "通知编号" in bad.get_json()["error"]["message"]
    assert api("handler_shj").post("/notifications/read", json={}).status_code == 400
    everything = api("handler_shj").post("/notifications/read", json={"all": True}).get_json()
    assert everything["unread"] == 0
    assert "data-bell-count>0<" in page.html("/dept/")


def test_each_role_lands_on_its_own_page(app):
    expected = {
        "agent1": "/console",
        "dispatcher1": "/dispatch",
        "handler_zjj": "/dept/",
        "monitor1": "/monitor",
        "supervisor1": "/supervision/ratings",
    }
    for username, path in expected.items():
        client = Browser(app, username).client
        location = client.get("/").headers.get("Location", "")
        assert location.startswith(path), (username, location)


def test_saved_filters_through_api_and_page(app, api):
    admin = api("dispatcher1")
    name = "本周投诉" + uuid.uuid4().hex[:4]
    resp = admin.post("/saved-filters", json={"name": name, "query": "kind=complaint&page=3&evil=1"})
    assert resp.status_code == 201, resp.get_json()
    saved = resp.get_json()
    assert saved["query"] == "kind=complaint"  # only the search's own parameters
    assert any(f["name"] == name for f in admin.get("/saved-filters").get_json()["items"])
    assert delete(api("agent1"), f"/saved-filters/{saved['id']}").status_code == 404  # not theirs
    empty = admin.post("/saved-filters", json={"name": "空", "query": "page=2"})
    assert empty.status_code == 400 and "筛选条件" in empty.get_json()["error"]["message"]

    page = Browser(app, "dispatcher1")
    html = page.html("/cases?kind=complaint")
    assert name in html and "保存当前筛选" in html
    resp = page.post("/cases/filters", {"name": "咨询件", "query": "kind=consult"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("?kind=consult")
    assert "咨询件" in page.html("/cases")
    assert delete(admin, f"/saved-filters/{saved['id']}").status_code == 204


def test_case_list_searches_phone_and_content_and_opens_the_citizen_file(app, api, phone):
    from hotline.extensions import db
    from hotline.models import AuditEvent

    word = "井" + uuid.uuid4().hex[:5]
    created = new_case(api("agent1"), phone, content=f"{word}盖缺失，路过的老人差点摔倒")
    page = Browser(app, "dispatcher1")
    for q in (phone, word, created["number"]):
        html = page.html(f"/cases?q={q}")
        assert created["number"] in html.split("<tbody>", 1)[1], q
    bad = page.html("/cases?created_from=2026-02-31")
    assert "日期格式不正确" in bad

    html = page.html(f"/citizens/file?phone={phone}")
    assert created["number"] in html and "王*" in html
    assert phone[:3] + "****" + phone[-4:] in html  # the file shows the number masked
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "citizen.file_view").order_by(AuditEvent.id.desc())
        ).all()
        assert rows and rows[0].actor_name == "dispatcher1"
    assert "格式不正确" in page.html("/citizens/file?phone=12ab")
    assert Browser(app, "handler_zjj").get(f"/citizens/file?phone={phone}").status_code in (302, 403)


def test_the_hotline_number_is_not_a_callers_number(app):
    from hotline.models import Category
    from tests.integration.test_pages import department_id, ids

    agent = Browser(app, "agent1")
    cat1, cat2 = ids(app, Category, Category.path, "环境保护", "环境保护/环境污染")
    data = {
        "citizen_name": "王小明",
        "channel": "phone",
        "kind": "complaint",
        "urgency": "normal",
        "category1": cat1,
        "category2": cat2,
        "district": department_id(app, "D01"),
        "address": "东城区人民路12号",
        "content": "小区楼下餐馆油烟扰民，晚上十点还在营业。",
    }
    for number in ("12345", "12110"):
        resp = agent.post("/console/cases", {**data, "phone": number})
        assert resp.status_code == 400, (number, resp.status_code)
        assert "热线/紧急号码" in resp.get_data(as_text=True)
    assert agent.post("/console/cases", {**data, "phone": "13900001234"}).status_code == 302


def test_assist_dispatch_does_not_preselect_the_lead_unit(app, make_case):
    import re

    from tests.integration.test_pages import department_id

    case = make_case("dispatched", unit="ZJJ", category="环境保护")  # the category has a default unit
    html = Browser(app, "dispatcher1").html(f"/cases/{case.number}")
    assert "建议：" in html  # a suggestion exists: it used to be preselected and then refused as the lead
    form = html.split('id="dispatch-department"', 1)[1].split("</select>", 1)[0]
    assert re.search(r'<option value="(\d+)" selected', form) is None, "a unit is preselected for 增派协办"
    assert f'value="{department_id(app, "ZJJ")}"' in form


def test_the_api_refuses_the_hotline_number_as_the_citizens_phone(api):
    body = {"channel": "phone", "kind": "consult", "content": "咨询社保卡补办流程", "citizen_phone": "12345"}
    resp = api("agent1").post("/cases", json=body)
    assert resp.status_code == 400
    assert "热线/紧急号码" in resp.get_json()["error"]["message"]

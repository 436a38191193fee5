"""Dispatch pages through the browser's path (login, CSRF forms): the workbench (one-key accept, return
decisions, improper returns), the case page's routing panel (duplicates + merge, emergency transfer,
second-level dispatch), and the admin pages for override rules and the category → unit mapping."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import new_case, routed, run_jobs
from tests.integration.test_pages import Browser


@pytest.fixture()
def browser(app):
    return lambda username: Browser(app, username)


def _phone() -> str:
    return "135" + f"{uuid.uuid4().int % 10**8:08d}"


def test_workbench_accept_and_return_decision(app, api, browser):
    agent, handler = api("agent1"), api("handler_jtj")
    case = new_case(
        agent,
        _phone(),
        category="交通运输",
        content=f"公交车不按站停车，司机态度差{uuid.uuid4().hex[:4]}",
        address="",
        district_code=None,
        urgency="emergency",
    )  # 特急: among the 200 shown first
    number = case["number"]
    dispatcher = browser("dispatcher1")
    page = dispatcher.html("/dispatch")
    row = page.split(number, 1)[1].split("</tr>", 1)[0]
    assert "交通运输 → 市交通运输局" in row and "按建议派单" in row
    resp = dispatcher.post(
        f"/dispatch/cases/{number}/accept",
        {"department": "JTJ", "category": "交通运输", "role": "lead", "version": case["version"], "next": "/dispatch"},
        follow=True,
    )
    assert "已派至市交通运输局" in resp.get_data(as_text=True)
    assert agent.get(f"/cases/{number}").get_json()["status"] == "dispatched"

    handler.post(f"/cases/{number}/return", json={"reason": "公交运营归公交集团管理"})
    page = dispatcher.html("/dispatch")
    returned = page.split("退回待审", 1)[1]
    assert number in returned and "公交运营归公交集团管理" in returned
    version = agent.get(f"/cases/{number}").get_json()["version"]
    missing = dispatcher.post(
        f"/dispatch/cases/{number}/decide",
        {"decision": "reject", "note": "", "version": version, "next": "/dispatch"},
        follow=True,
    )
    assert "请填写审核意见" in missing.get_data(as_text=True)
    resp = dispatcher.post(
        f"/dispatch/cases/{number}/decide",
        {"decision": "reject", "note": "属于交通运输局职责", "version": version, "next": "/dispatch"},
        follow=True,
    )
    html = resp.get_data(as_text=True)
    assert "驳回退回（计为不当退回）" in html
    improper = html.split('id="improper-returns"', 1)[1]
    jtj = improper.split("市交通运输局", 1)[1].split("</tr>", 1)[0]
    assert [int(x) for x in jtj.replace("</td>", " ").replace("<td>", " ").split()[:2]][1] >= 1
    # a page without the CSRF token is refused
    bad = dispatcher.client.post(f"/dispatch/cases/{number}/accept", data={"department": "JTJ"})
    assert bad.status_code == 400 or "提交无效" in bad.get_data(as_text=True) or bad.status_code == 302


def test_case_page_duplicates_merge_and_emergency_transfer(app, api, browser):
    agent = api("agent1")
    text = f"朝阳新村12栋楼下的路灯坏了一个月，晚上漆黑一片很不安全{uuid.uuid4().hex[:4]}"
    first = new_case(agent, _phone(), content=text, address="朝阳路", district_code="D01S03", category="城乡建设")
    run_jobs(app)  # the routing job stores its duplicate-check keys
    dup = new_case(
        agent,
        _phone(),
        content="朝阳新村12栋楼下路灯坏了一个月了，晚上漆黑很不安全",
        address="朝阳路",
        district_code="D01S03",
        category="城乡建设",
    )
    run_jobs(app)
    dispatcher = browser("dispatcher1")
    page = dispatcher.html(f"/cases/{dup['number']}")
    panel = page.split('id="routing-duplicates"', 1)[1].split("</section>", 1)[0]
    assert first["number"] in panel and "并入此单" in panel
    resp = dispatcher.post(
        f"/dispatch/cases/{dup['number']}/merge", {"into": first["number"], "version": dup["version"]}, follow=True
    )
    html = resp.get_data(as_text=True)
    assert f"已并入 {first['number']}" in html and "已并单" in html
    master = dispatcher.html(f"/cases/{first['number']}")
    merged = master.split('id="routing-merged"', 1)[1].split("</section>", 1)[0]
    assert dup["number"] in merged and "2 位来电人" in merged

    fire = new_case(agent, _phone(), content="隔壁厨房着火了，火很大，浓烟往楼道里冒", category=None)
    fire = routed(app, agent, fire)
    page = browser("agent1").html(f"/cases/{fire['number']}")
    banner = page.split('id="routing-emergency"', 1)[1].split("</section>", 1)[0]
    assert "请立即转接 <strong>119</strong>" in banner and "一键转接 119" in banner
    resp = browser("agent1").post(
        f"/dispatch/cases/{fire['number']}/transfer", {"number": "119", "version": fire["version"]}, follow=True
    )
    html = resp.get_data(as_text=True)
    assert "已转119（消防），转接已记录在工单上" in html and "按转接办结" in html
    assert agent.get(f"/cases/{fire['number']}").get_json()["status"] == "closed"


def test_district_subdispatch_page(app, api, browser):
    case = new_case(api("agent1"), _phone(), category="城乡建设", content=f"小区门口井盖缺失{uuid.uuid4().hex[:4]}")
    api("dispatcher1").post(f"/cases/{case['number']}/dispatch", json={"department_code": "D01"})
    district = browser("handler_d01")
    page = district.html(f"/cases/{case['number']}")
    assert 'id="routing-subdispatch"' in page and "和平街道" in page
    version = api("handler_d01").get(f"/cases/{case['number']}").get_json()["version"]
    resp = district.post(
        f"/dispatch/cases/{case['number']}/subdispatch",
        {"department": "D01S01", "note": "请街道核实", "version": version},
        follow=True,
    )
    assert "已二次派单至和平街道" in resp.get_data(as_text=True)
    assert api("handler_d01s01").get(f"/cases/{case['number']}").get_json()["department_code"] == "D01S01"


def test_admin_pages_rules_and_categories(app, api, browser):
    from hotline.extensions import db
    from hotline.models import Category, Department, RoutingRule

    admin = browser("admin")
    page = admin.html("/admin/routing/rules")
    assert "新增规则" in page
    assert browser("dispatcher1").get("/admin/routing/rules").status_code == 403
    with app.app_context():
        shj = db.session.query(Department).filter_by(code="SHJ").one().id
        rsj = db.session.query(Department).filter_by(code="RSJ").one().id
        labour = db.session.query(Category).filter_by(level=1, name="劳动和社会保障").one().id
    bad = admin.post("/admin/routing/rules", {"regex": "(坏", "department": str(shj), "priority": "1"})
    assert bad.status_code == 400 and "正则表达式无效" in bad.get_data(as_text=True)
    slow = admin.post("/admin/routing/rules", {"regex": "(坏|坏坏)+$", "department": str(shj), "priority": "1"})
    assert slow.status_code == 400 and "正则表达式匹配过慢" in slow.get_data(as_text=True)
    resp = admin.post(
        "/admin/routing/rules",
        {"keyword": "秸秆焚烧", "department": str(shj), "priority": "5", "enabled": "y", "note": "环保专项"},
        follow=True,
    )
    assert "已保存，立即生效" in resp.get_data(as_text=True)
    body = api("agent1").post("/routing/suggest", json={"content": "村里有人秸秆焚烧，烟很大"}).get_json()
    assert body["suggestions"][0]["department_code"] == "SHJ" and body["rule_id"] is not None
    rule_id = body["rule_id"]
    admin.post(f"/admin/routing/rules/{rule_id}", {"op": "delete"}, follow=True)
    with app.app_context():
        assert db.session.get(RoutingRule, rule_id) is None

    assert "劳动和社会保障" in admin.html("/admin/routing/categories")
    try:
        resp = admin.post(f"/admin/routing/categories/{labour}", {"department": str(shj)}, follow=True)
        assert "承办单位已改为市生态环境局" in resp.get_data(as_text=True)
        mapped = api("admin").get("/routing/categories").get_json()["items"]
        assert next(r for r in mapped if r["name"] == "劳动和社会保障")["department_code"] == "SHJ"
    finally:
        admin.post(f"/admin/routing/categories/{labour}", {"department": str(rsj)})


def test_case_page_shows_routing_in_progress_until_the_job_has_run(app, api, browser):
    case = new_case(api("agent1"), _phone(), category=None, content=f"小区路灯坏了很久没人修{uuid.uuid4().hex[:4]}")
    dispatcher = browser("dispatcher1")
    page = dispatcher.html(f"/cases/{case['number']}")
    assert 'data-live-region="case-routing"' in page and "正在分析派单建议" in page
    run_jobs(app)
    page = dispatcher.html(f"/cases/{case['number']}")
    assert "正在分析派单建议" not in page

"""Routing of new cases: auto-dispatch above the threshold only, 属地 (local) categories going to the street,
override rules and the category → unit mapping from the database, out-of-scope matters, duplicates found while
typing and on create (并单), and the rebuild of the duplicate-check keys."""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from tests.helpers import new_case, routed, run_jobs
from tests.integration.test_routing_api import _write_data


def _phone() -> str:
    return "137" + f"{uuid.uuid4().int % 10**8:08d}"


@contextmanager
def settings(app, **values):
    s = app.config["HOTLINE"]
    old = {k: getattr(s, k) for k in values}
    for k, v in values.items():
        setattr(s, k, v)
    try:
        yield s
    finally:
        for k, v in old.items():
            setattr(s, k, v)


@pytest.fixture()
def trained(app, tmp_path):
    from routing.model import model_path

    data = tmp_path / "data"
    _write_data(data)
    result = app.test_cli_runner().invoke(args=["routing", "train", "--data", str(data)])
    assert result.exit_code == 0, result.output
    path = model_path(app.config["HOTLINE"].instance)
    yield path
    path.unlink(missing_ok=True)


WAGES = "公司拖欠工资三个月了，老板也不缴社保"


def test_auto_dispatch_only_above_the_threshold(app, api, trained):
    agent = api("agent1")
    # three different matters (a likely duplicate is never auto-dispatched: the dispatcher merges it)
    texts = [WAGES, "单位一直不给员工缴纳养老保险", "工伤认定申请交上去半年了还没有结果"]
    scores = [agent.post("/routing/suggest", json={"content": t}).get_json()["suggestions"][0]["score"] for t in texts]
    assert all(0 < s < 1 for s in scores)
    # the routing job decides (a moment after the registration's commit, with the settings in force then)
    with settings(app, auto_dispatch=True, auto_dispatch_threshold=min(scores[0] + 0.01, 1.0)):
        below = routed(
            app, agent, new_case(agent, _phone(), content=texts[0], category=None, address="", district_code=None)
        )
    assert below["status"] == "registered" and below["department_code"] is None
    with settings(app, auto_dispatch=True, auto_dispatch_threshold=max(scores[1] - 0.01, 0.0)):
        above = new_case(agent, _phone(), content=texts[1], category=None, address="", district_code=None)
        assert above["status"] == "registered"  # the intake itself never waits for the router
        above = routed(app, agent, above)
    assert above["status"] == "dispatched" and above["department_code"] == "RSJ"
    assert above["category"] == "劳动和社会保障"
    event = next(e for e in above["events"] if e["action"] == "dispatch")
    assert event["actor"] is None and "自动派单" in event["actor_label"] and "自动派单" in event["note"]
    assert event["data"]["auto"] is True
    with settings(app, auto_dispatch=False, auto_dispatch_threshold=0.0):
        off = routed(
            app, agent, new_case(agent, _phone(), content=texts[2], category=None, address="", district_code=None)
        )
    assert off["status"] == "registered"
    # the waiting one keeps its suggestions for the dispatcher
    stored = agent.get(f"/cases/{below['number']}/routing").get_json()
    assert stored["suggestions"][0]["category"] == "劳动和社会保障" and stored["auto"] is False


def test_local_matter_goes_to_the_street_and_city_wide_to_the_department(app, api):
    """The mapping of the category the router found (level 3 or 2, routing/fine.py) decides: 属地 → the street of
    the place, else its unit; an admin's edit of that mapping takes effect at the next suggestion."""
    admin, agent = api("admin"), api("agent1")
    headers = {"Authorization": f"Bearer {admin.token}"}
    body = {"content": "楼道里堆满杂物，物业不清理，小区违章搭建", "address": "东城区和平路28号"}
    path = agent.post("/routing/suggest", json=body).get_json()["suggestions"][0]["path"]
    level = str(path.count("/") + 1)
    row = next(r for r in admin.get(f"/routing/categories?level={level}").get_json()["items"] if r["path"] == path)
    try:
        for local, expected in ((True, "D01S01"), (False, row["department_code"])):
            resp = admin.client.put(
                f"/api/v1/routing/categories/{row['id']}",
                headers=headers,
                json={"department_code": row["department_code"], "local": local},
            )
            assert resp.status_code == 200
            found = agent.post("/routing/suggest", json=body).get_json()
            assert found["place"]["street_code"] == "D01S01"
            assert found["suggestions"][0]["path"] == path
            assert found["suggestions"][0]["department_code"] == expected, (local, found)
        # 属地 without a known place: the mapped unit (the district as backstop needs a place)
        admin.client.put(
            f"/api/v1/routing/categories/{row['id']}",
            headers=headers,
            json={"department_code": row["department_code"], "local": True},
        )
        found = agent.post("/routing/suggest", json={"content": body["content"]}).get_json()
        assert found["suggestions"][0]["department_code"] == row["department_code"]
    finally:
        admin.client.put(
            f"/api/v1/routing/categories/{row['id']}",
            headers=headers,
            json={"department_code": row["department_code"], "local": row["local"]},
        )


def test_admin_rule_overrides_the_model_and_is_editable(app, api, trained):
    admin = api("admin")
    agent = api("agent1")
    assert (
        agent.post("/routing/suggest", json={"content": WAGES}).get_json()["suggestions"][0]["department_code"] == "RSJ"
    )
    created = admin.post(
        "/routing/rules",
        json={"keyword": "拖欠工资|欠薪", "department_code": "D01", "priority": 10, "note": "东城区欠薪专班"},
    )
    assert created.status_code == 201, created.get_json()
    rule = created.get_json()
    try:
        body = agent.post("/routing/suggest", json={"content": WAGES}).get_json()
        assert body["suggestions"][0]["department_code"] == "D01" and body["rule_id"] == rule["id"]
        assert body["auto"] is True  # a rule decides with full confidence
        off = admin.client.patch(
            f"/api/v1/routing/rules/{rule['id']}",
            json={"enabled": False},
            headers={"Authorization": f"Bearer {admin.token}"},
        )
        assert off.status_code == 200 and off.get_json()["enabled"] is False
        assert (
            agent.post("/routing/suggest", json={"content": WAGES}).get_json()["suggestions"][0]["department_code"]
            == "RSJ"
        )
        bad = admin.post("/routing/rules", json={"regex": "(欠薪", "department_code": "D01"})
        assert bad.status_code == 400 and "regex" in bad.get_json()["error"]["fields"]
        stored = admin.get("/routing/rules").get_json()["items"]
        slow = admin.post("/routing/rules", json={"regex": "(欠|欠欠)+$", "department_code": "D01"})
        assert slow.status_code == 400 and "过慢" in slow.get_json()["error"]["fields"]["regex"]
        assert admin.get("/routing/rules").get_json()["items"] == stored
        empty = admin.post("/routing/rules", json={"department_code": "D01"})
        assert empty.status_code == 400 and "至少" in empty.get_json()["error"]["message"]
        assert agent.post("/routing/rules", json={"keyword": "x", "department_code": "D01"}).status_code == 403
    finally:
        admin.client.delete(f"/api/v1/routing/rules/{rule['id']}", headers={"Authorization": f"Bearer {admin.token}"})


def test_category_unit_mapping_is_editable(app, api):
    admin = api("admin")
    rows = admin.get("/routing/categories").get_json()["items"]
    labour = next(r for r in rows if r["name"] == "劳动和社会保障")
    assert labour["department_code"] == "RSJ"
    headers = {"Authorization": f"Bearer {admin.token}"}
    try:
        resp = admin.client.put(
            f"/api/v1/routing/categories/{labour['id']}",
            json={"department_code": "SHJ", "local": False},
            headers=headers,
        )
        assert resp.status_code == 200, resp.get_json()
        body = api("agent1").post("/routing/suggest", json={"content": "劳动和社会保障问题"}).get_json()
        assert all(s["department_code"] == "SHJ" for s in body["suggestions"] if s["category"] == "劳动和社会保障")
        bad = admin.client.put(
            f"/api/v1/routing/categories/{labour['id']}", json={"department_code": "NOPE"}, headers=headers
        )
        assert bad.status_code == 400
    finally:
        admin.client.put(
            f"/api/v1/routing/categories/{labour['id']}",
            json={"department_code": "RSJ", "local": labour["local"]},
            headers=headers,
        )


def test_out_of_scope_case_is_not_auto_dispatched(app, api, trained, phone):
    with settings(app, auto_dispatch=True, auto_dispatch_threshold=0.0):
        case = routed(
            app,
            api("agent1"),
            new_case(
                api("agent1"),
                phone,
                category=None,
                address="",
                content="公司拖欠工资，我已经申请劳动仲裁了，仲裁委一直不开庭",
                district_code=None,
            ),
        )
    assert case["status"] == "registered"
    stored = api("agent1").get(f"/cases/{case['number']}/routing").get_json()
    assert stored["out_of_scope"]["reason"] == "仲裁" and stored["out_of_scope"]["answer"]


def test_duplicates_found_while_typing_and_on_create(app, api):
    agent = api("agent1")
    text = "西城区金城路100号金城花园小区门口的下水道堵塞，污水漫到人行道上，已经三天了"
    first = new_case(
        agent, _phone(), content=text, address="西城区金城路100号", district_code="D02S02", category="城乡建设"
    )
    run_jobs(app)  # routed: its duplicate-check keys are stored
    probe = agent.post(
        "/routing/duplicates", json={"content": "金城花园小区门口下水道堵了，污水漫到人行道", "address": "金城路100号"}
    )
    assert probe.status_code == 200, probe.get_json()
    found = probe.get_json()
    assert found["district_code"] == "D02S02"
    assert found["duplicates"] and found["duplicates"][0]["number"] == first["number"]
    other_place = agent.post(
        "/routing/duplicates", json={"content": "金城花园小区门口下水道堵了，污水漫到人行道", "district_code": "D05"}
    ).get_json()
    assert first["number"] not in [d["number"] for d in other_place["duplicates"]]
    unrelated = agent.post(
        "/routing/duplicates", json={"content": "公交车司机态度恶劣，还不按站停车", "district_code": "D02S02"}
    ).get_json()
    assert first["number"] not in [d["number"] for d in unrelated["duplicates"]]
    assert agent.post("/routing/duplicates", json={"content": ""}).status_code == 400

    second = new_case(
        agent,
        _phone(),
        content="金城花园门口下水道堵塞三天了，污水漫到人行道上，请尽快疏通",
        address="金城路100号",
        district_code="D02S02",
        category="城乡建设",
    )
    run_jobs(app)
    stored = agent.get(f"/cases/{second['number']}/routing").get_json()
    assert first["number"] in [d["number"] for d in stored["duplicates"]]


def test_dupkeys_command_rebuilds_the_keys_of_open_cases(app, api):
    from hotline.extensions import db
    from hotline.models import Case, CaseDupKey

    agent = api("agent1")
    text = f"建设北路1号锦绣花园东门的垃圾桶满了好几天没人清运，臭气熏天{uuid.uuid4().hex[:4]}"
    case = routed(app, agent, new_case(agent, _phone(), content=text, address="建设北路1号", district_code="D01S04"))
    with app.app_context():
        case_id = db.session.scalar(sa.select(Case.id).where(Case.number == case["number"]))
        db.session.execute(sa.delete(CaseDupKey).where(CaseDupKey.case_id == case_id))
        db.session.commit()
    probe = {"content": "锦绣花园东门垃圾桶满了好几天没人清运，臭气熏天", "district_code": "D01S04"}
    assert case["number"] not in [
        d["number"] for d in agent.post("/routing/duplicates", json=probe).get_json()["duplicates"]
    ]
    result = app.test_cli_runner().invoke(args=["routing", "dupkeys"])
    assert result.exit_code == 0 and "重建查重索引" in result.output
    assert case["number"] in [
        d["number"] for d in agent.post("/routing/duplicates", json=probe).get_json()["duplicates"]
    ]
    # closing a case removes its keys
    agent.post(f"/cases/{case['number']}/close", json={})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(CaseDupKey.case_id == case_id)) == 0

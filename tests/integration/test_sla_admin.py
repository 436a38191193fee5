"""The SLA policy (versioned, validated, admin only, per-category limits) and the holiday table with its warning."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from hotline.sla import clock as sla
from hotline.sla import deadlines
from tests.helpers import new_case


@pytest.fixture()
def restore_policy(app, api):
    yield
    resp = api("admin").post("/sla/policy", json={"rules": _defaults(app), "note": "恢复默认时限"})
    assert resp.status_code == 201


def _delete(client, path: str):
    return client.client.delete("/api/v1" + path, headers={"Authorization": f"Bearer {client.token}"})


def _defaults(app) -> dict:
    with app.app_context():
        return deadlines.default_rules()


def test_policy_read_and_roles(api):
    body = api("monitor1").get("/sla/policy").get_json()
    assert body["version"] >= 1 and body["rules"]["reply/normal"] == {"amount": 7, "unit": "work_days"}
    assert body["office_hours"] == {"start": "09:00", "end": "18:00"} and body["history"]
    assert api("handler_zjj").get("/sla/policy").status_code == 403
    resp = api("monitor1").post("/sla/policy", json={"rules": {"reply/normal": {"amount": 5, "unit": "work_days"}}})
    assert resp.status_code == 403


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"close/normal": {"amount": 1, "unit": "work_days"}}, "rules.close/normal"),
        ({"reply/slow": {"amount": 1, "unit": "work_days"}}, "rules.reply/slow"),
        ({"reply/normal": {"amount": 0, "unit": "work_days"}}, "rules.reply/normal"),
        ({"reply/normal": {"amount": 3, "unit": "weeks"}}, "rules.reply/normal"),
        ({"reply/normal": {"amount": True, "unit": "work_days"}}, "rules.reply/normal"),
        ({"reply/normal": 7}, "rules.reply/normal"),
        ({"reply/category:不存在的分类": {"amount": 3, "unit": "work_days"}}, "rules.reply/category:不存在的分类"),
        ({"office_hours": {"start": "18:00", "end": "09:00"}}, "rules.office_hours"),
        ({"office_hours": "9-18"}, "rules.office_hours"),
    ],
)
def test_policy_validation(api, rules, field):
    resp = api("admin").post("/sla/policy", json={"rules": rules})
    assert resp.status_code == 400, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_input" and field in error["fields"]
    assert error["message"].startswith("提交的内容有误")


def test_policy_rejects_non_object(api):
    assert api("admin").post("/sla/policy", json={"rules": []}).status_code == 400
    assert api("admin").post("/sla/policy", json={}).status_code == 400


def test_new_version_with_category_limit_applies_to_new_dispatches(app, api, phone, restore_policy):
    before = api("admin").get("/sla/policy").get_json()["version"]
    rules = {
        **_defaults(app),
        "reply/category:城乡建设": {"amount": 10, "unit": "work_days"},
        "reply/category:城乡建设/住房保障与房地产": {"amount": 4, "unit": "work_days"},
    }
    resp = api("admin").post("/sla/policy", json={"rules": rules, "note": "住建类工单延长办理时限"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["version"] == before + 1
    current = api("monitor1").get("/sla/policy").get_json()
    assert current["version"] == before + 1 and current["note"] == "住建类工单延长办理时限"
    assert [h["active"] for h in current["history"]][:2] == [True, False]

    number = new_case(api("agent1"), phone, category="城乡建设")["number"]
    body = api("dispatcher1").post(f"/cases/{number}/dispatch", json={"department_code": "ZJJ"}).get_json()
    start = datetime.fromisoformat(body["assignments"][0]["assigned_at"])
    reply = datetime.fromisoformat(body["deadlines"]["reply"])
    assert reply == sla.deadline(start, sla.Limit(10, "work_days"), sla.WorkCalendar())
    other = new_case(api("agent1"), phone)["number"]  # 环境保护: the tier's 7 days
    body = api("dispatcher1").post(f"/cases/{other}/dispatch", json={"department_code": "SHJ"}).get_json()
    start = datetime.fromisoformat(body["assignments"][0]["assigned_at"])
    assert datetime.fromisoformat(body["deadlines"]["reply"]) == sla.deadline(
        start, sla.Limit(7, "work_days"), sla.WorkCalendar()
    )


def test_holiday_table_covers_an_unknown_year(app, api):
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year + 1
    warning = f"{year}年节假日数据缺失，按周一至周五计算，请在节假日表中维护"
    admin = api("admin")
    body = admin.get(f"/sla/holidays?year={year}").get_json()
    unknown = not deadlines.library_knows(year)
    assert body["library_knows_year"] is (not unknown)
    if unknown:  # chinese-calendar 1.11 stops at 2026
        assert warning in body["warnings"] and warning in admin.get("/sla/policy").get_json()["warnings"]
    new_year = date(year, 1, 1).isoformat()
    resp = admin.post(
        "/sla/holidays",
        json={
            "days": [
                {"day": new_year, "is_workday": False, "note": "元旦"},
                {"day": date(year, 1, 2).isoformat(), "is_workday": False},
            ]
        },
    )
    assert resp.status_code == 200, resp.get_json()
    assert warning not in resp.get_json()["warnings"]
    listed = admin.get(f"/sla/holidays?year={year}").get_json()["holidays"]
    assert listed[0] == {"day": new_year, "is_workday": False, "note": "元旦"} and len(listed) == 2
    changed = admin.post("/sla/holidays", json={"day": new_year, "is_workday": True, "note": "改为上班"})
    assert changed.status_code == 200
    assert admin.get(f"/sla/holidays?year={year}").get_json()["holidays"][0]["is_workday"] is True
    with app.app_context():  # the calendar used for deadlines sees the override at once
        assert deadlines.calendar().is_workday(date(year, 1, 2)) is False
    for day in (new_year, date(year, 1, 2).isoformat()):
        assert _delete(admin, f"/sla/holidays/{day}").status_code == 200
    assert _delete(admin, f"/sla/holidays/{new_year}").status_code == 404
    if unknown:
        assert warning in admin.get(f"/sla/holidays?year={year}").get_json()["warnings"]


@pytest.mark.parametrize(
    "body",
    [
        {"day": "2027-02-30", "is_workday": False},
        {"day": "明年元旦", "is_workday": False},
        {"day": "2027-01-01", "is_workday": "no"},
        {"days": []},
        {"days": ["2027-01-01"]},
    ],
)
def test_holiday_validation(api, body):
    resp = api("admin").post("/sla/holidays", json=body)
    assert resp.status_code == 400 and resp.get_json()["error"]["message"]


def test_holiday_roles(api):
    assert api("monitor1").post("/sla/holidays", json={"day": "2027-01-01", "is_workday": False}).status_code == 403
    assert api("monitor1").get("/sla/holidays").status_code == 200
    assert api("handler_zjj").get("/sla/holidays").status_code == 403
    assert api("admin").get("/sla/holidays?year=abc").status_code == 400

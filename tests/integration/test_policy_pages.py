"""Calendar and policy pages (issue 17): the holiday table imported from CSV by page and command, missing years in
the API and as a banner, the SLA policy published from its page (a new version, audited), and the category map
published as versions with import/export."""

from __future__ import annotations

import io
import uuid
from datetime import date

import sqlalchemy as sa

from tests.integration.test_pages import Browser

YEAR = 2041  # a year chinese-calendar will not know for a long time, untouched by the other tests


def _upload(browser, path, content: str, name: str = "h.csv", **fields):
    data = {"csrf_token": browser.token, "file": (io.BytesIO(content.encode()), name), **fields}
    return browser.client.post(path, data=data, content_type="multipart/form-data")


def test_missing_years_follow_the_first_of_november_rule_and_an_import_fills_a_year(app, tmp_path):
    from hotline.policy import holidays as hol

    with app.app_context():
        assert hol.missing_years(date(YEAR - 1, 10, 31)) == [YEAR - 1]
        assert hol.missing_years(date(YEAR - 1, 11, 1)) == [YEAR - 1, YEAR]
        assert "按周一至周五计算" in hol.banner(date(YEAR - 1, 11, 1))
        assert hol.missing_years(date(2026, 6, 1)) == []  # chinese-calendar knows 2026

    bad = tmp_path / "bad.csv"
    bad.write_text(f"date,kind,name\n{YEAR}-01-01,holiday,元旦\n{YEAR}-13-01,holiday,错\n", encoding="utf-8")
    runner = app.test_cli_runner()
    out = runner.invoke(args=["holidays", "import", str(bad)])
    assert out.exit_code != 0 and "第 3 行" in out.output and "未导入" in out.output
    good = tmp_path / "good.csv"
    good.write_text(
        f"日期,类型,名称\n{YEAR}-01-01,holiday,元旦\n{YEAR}-01-02,放假,元旦\n{YEAR}-01-05,workday,元旦调休\n",
        encoding="utf-8",
    )
    out = runner.invoke(args=["holidays", "import", str(good)])
    assert out.exit_code == 0, out.output
    assert "新增 3" in out.output
    with app.app_context():
        from hotline.sla import deadlines

        assert hol.missing_years(date(YEAR - 1, 11, 1)) == [YEAR - 1]
        cal = deadlines.calendar()
        assert not cal.is_workday(date(YEAR, 1, 2)) and cal.is_workday(date(YEAR, 1, 5))  # 5 Jan 2041: a Saturday
    again = runner.invoke(args=["holidays", "import", str(good)])
    assert "未变 3" in again.output


def test_holiday_page_imports_a_year_and_shows_errors_in_chinese(app, api):
    admin = Browser(app, "admin")
    year = YEAR + 1
    page = admin.html(f"/admin/policy/holidays?year={year}")
    assert "节假日表" in page and f"本表没有 {year} 年的日期" in page
    resp = _upload(admin, f"/admin/policy/holidays/import?year={year}", f"date,kind,name\n{year}-02-30,holiday,错\n")
    assert resp.status_code == 400 and "日期「" in resp.get_data(as_text=True)
    resp = _upload(admin, "/admin/policy/holidays/import", f"date,kind,name\n{year}-10-01,holiday,国庆节\n")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "已导入" in text and f"{year}-10-01" in text and "国庆节" in text
    assert f"{year}-10-01" in [h["day"] for h in api("admin").get(f"/sla/holidays?year={year}").get_json()["holidays"]]
    resp = admin.post(f"/admin/policy/holidays/{year}-10-01/delete", {}, follow=True)
    assert f"已删除 {year}-10-01" in resp.get_data(as_text=True)
    assert Browser(app, "monitor1").get("/admin/policy/holidays").status_code == 403


def test_the_holidays_api_names_missing_years_and_monitors_see_the_banner(app, api):
    from hotline.policy import holidays as hol
    from hotline.policy.pages import _today

    with app.test_request_context():
        today = _today()
        expected = hol.missing_years(today)
    body = api("monitor1").get("/sla/holidays").get_json()
    assert body["missing_years"] == expected
    monitor_page = Browser(app, "monitor1").html("/monitor")
    agent_page = Browser(app, "agent1").html("/console")
    assert ('id="calendar-banner"' in monitor_page) == bool(expected)
    assert 'id="calendar-banner"' not in agent_page


def test_sla_policy_page_publishes_a_new_version_and_refuses_bad_limits(app, api):
    admin = Browser(app, "admin")
    page = admin.html("/admin/policy/sla")
    assert "时限策略" in page and "签收" in page
    policy = api("admin").get("/sla/policy").get_json()
    form = {"key": [k for k in policy["rules"] if "/" in k], "office_start": "09:00", "office_end": "18:00"}
    for key in form["key"]:
        form[f"amount:{key}"] = str(policy["rules"][key]["amount"])
        form[f"unit:{key}"] = policy["rules"][key]["unit"]
    bad = admin.client.post("/admin/policy/sla", data=form | {"amount:sign/normal": "-1", "csrf_token": admin.token})
    assert bad.status_code == 400 and "时限数量必须是大于 0 的数字" in bad.get_data(as_text=True)
    good = admin.client.post(
        "/admin/policy/sla",
        data=form
        | {
            "new_milestone": "reply",
            "new_selector": "category:城乡建设",
            "new_amount": "7",
            "new_unit": "work_days",
            "note": "页面测试",
            "csrf_token": admin.token,
        },
        follow_redirects=True,
    )
    assert good.status_code == 200 and "已发布时限策略第" in good.get_data(as_text=True)
    after = api("admin").get("/sla/policy").get_json()
    assert after["version"] == policy["version"] + 1 and after["note"] == "页面测试"
    assert after["rules"]["reply/category:城乡建设"] == {"amount": 7, "unit": "work_days"}
    api("admin").post("/sla/policy", json={"rules": policy["rules"], "note": "还原"})


def test_category_map_is_published_as_versions_with_import_and_export(app, api):
    from hotline.extensions import db
    from hotline.models import AuditEvent, Category, CategoryMapVersion, Department

    admin = Browser(app, "admin")
    with app.app_context():
        cat = db.session.scalar(sa.select(Category).where(Category.level == 2).order_by(Category.id).limit(1))
        path, old_unit = cat.path, (db.session.get(Department, cat.department_id).code if cat.department_id else "")
        old_local = cat.local
    page = admin.html("/admin/policy/categories?q=" + path.split("/")[1])
    assert "归口表" in page and path in page
    bad = _upload(
        admin, "/admin/policy/categories/import", f"category,unit_code,local\n{path},NOPE,1\n不存在/分类,CGJ,0\n"
    )
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "承办单位代码「NOPE」不存在" in text and "分类「不存在/分类」不存在" in text
    note = "测试" + uuid.uuid4().hex[:6]
    ok = _upload(admin, "/admin/policy/categories/import", f"category,unit_code,local\n{path},CGJ,1\n", note=note)
    assert ok.status_code == 200 and "已发布第" in ok.get_data(as_text=True)
    with app.app_context():
        cat = db.session.scalar(sa.select(Category).where(Category.path == path))
        assert db.session.get(Department, cat.department_id).code == "CGJ" and cat.local
        version = db.session.scalar(sa.select(CategoryMapVersion).where(CategoryMapVersion.note == note))
        assert {"path": path, "unit": "CGJ", "local": True} in version.rows
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "category_map.publish").order_by(AuditEvent.id.desc())
        )
        assert event.after == [{"path": path, "unit": "CGJ", "local": True}]
        assert event.before == [{"path": path, "unit": old_unit or None, "local": old_local}]
        number = version.version
    export = admin.get(f"/admin/policy/categories.csv?version={number}").get_data(as_text=True)
    assert export.lstrip("\ufeff").startswith("category,unit_code,local") and f"{path},CGJ,1" in export
    assert admin.get("/admin/policy/categories.csv?version=999999").status_code == 404
    # put it back through the one-row form: another version
    resp = admin.post(
        "/admin/policy/categories",
        {"category": path, "unit_code": old_unit, **({"local": "y"} if old_local else {})},
        follow=True,
    )
    assert "已发布归口表第" in resp.get_data(as_text=True)
    assert Browser(app, "dispatcher1").get("/admin/policy/categories").status_code == 403

"""Personal data (PIPL, issue 17): export everything held about a phone number as a ZIP of JSON + HTML, erase it
(the number no longer finds a file; the cases remain, anonymised), each audited; the retention limit's dry run and
its application by the daily job."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.integration.test_pages import Browser


def _audit(app, action: str) -> list:
    from hotline.extensions import db
    from hotline.models import AuditEvent

    with app.app_context():
        return db.session.execute(
            sa.select(AuditEvent.actor_name, AuditEvent.target_id, AuditEvent.before, AuditEvent.detail)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id)
        ).all()


def test_export_holds_cases_records_and_html_and_is_audited(app, api, make_case, phone):
    case = make_case("closed", phone=phone, citizen_name="赵敏", content="小区门口路灯坏了三天，晚上很黑")
    admin = api("admin")
    record = admin.post(
        "/citizens/records",
        json={"phone": phone, "source": "一网通办", "ref": "R-" + phone, "title": "居住证办理"},
    )
    assert record.status_code in (200, 201), record.get_json()

    resp = admin.post("/privacy/export", json={"phone": phone})
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(resp.data))
    assert {"person.json", "cases.json", "calls.json", "ratings.json", "records.json", "index.html"} <= set(
        zf.namelist()
    )
    person = json.loads(zf.read("person.json"))
    assert person["files"][0]["name"] == "赵敏" and "+86" + phone in [p["number"] for p in person["phones"]]
    cases = json.loads(zf.read("cases.json"))
    assert [c["number"] for c in cases] == [case.number] and "路灯" in cases[0]["content"]
    assert cases[0]["timeline"] and cases[0]["replies"]
    assert json.loads(zf.read("records.json"))[0]["title"] == "居住证办理"
    page = zf.read("index.html").decode()
    assert "赵敏" in page and case.number in page and "<script" not in page
    assert _audit(app, "pipl.export")[-1].actor_name == "admin"

    assert admin.post("/privacy/export", json={"phone": "13900000000"}).status_code == 404
    bad = admin.post("/privacy/export", json={"phone": "12"})
    assert bad.status_code == 400 and bad.get_json()["error"]["message"]
    assert api("agent1").post("/privacy/export", json={"phone": phone}).status_code == 403


def test_erase_removes_the_person_and_keeps_the_cases_anonymised(app, api, make_case, phone):
    first = make_case("closed", phone=phone, citizen_name="钱多多", content="噪音扰民，夜里施工")
    second = make_case("dispatched", phone=phone, citizen_name="钱多多", content="井盖缺失很危险")
    agent = api("agent1")
    before = agent.get(f"/citizens/lookup?phone={phone}").get_json()
    assert before["found"] is True

    admin = api("admin")
    refused = admin.post("/privacy/erase", json={"phone": phone, "confirm": False})
    assert refused.status_code == 400 and "confirm" in refused.get_json()["error"]["message"]
    resp = admin.post("/privacy/erase", json={"phone": phone, "confirm": True})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["cases_anonymised"] == 2

    assert agent.get(f"/citizens/lookup?phone={phone}").get_json()["found"] is False  # the blind index is gone
    assert admin.post("/privacy/export", json={"phone": phone}).status_code == 404
    for case in (first, second):
        body = admin.get(f"/cases/{case.number}").get_json()
        assert body["content"] == case.content  # the case keeps its content
        text = json.dumps(body, ensure_ascii=False)
        assert "钱多多" not in text and phone not in text and phone[-4:] not in text

    from hotline.extensions import db
    from hotline.models import Case as CaseRow
    from hotline.models import CitizenErasure, CitizenPhone

    with app.app_context():
        row = db.session.get(CaseRow, first.id)
        erasure = db.session.get(CitizenErasure, row.citizen_id)
        assert erasure is not None and erasure.reason == "request" and erasure.cases == 2
        stored = db.session.scalars(sa.select(CitizenPhone).where(CitizenPhone.citizen_id == row.citizen_id)).all()
        assert all(p.phone_hash.startswith("erased:") and p.masked == "已删除" for p in stored)
    event = _audit(app, "pipl.erase")[-1]
    assert event.actor_name == "admin" and phone not in json.dumps(event.before)  # masked numbers only

    # the same number calling again starts a new, empty file
    again = agent.get(f"/citizens/lookup?phone={phone}").get_json()
    assert again["found"] is False


def test_erase_and_export_from_the_page(app, make_case, phone):
    make_case("closed", phone=phone, citizen_name="孙悟空")
    admin = Browser(app, "admin")
    assert "个人信息保护" in admin.html("/admin/privacy")
    resp = admin.post("/admin/privacy/export", {"phone": phone})
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    refused = admin.post("/admin/privacy/erase", {"phone": phone})
    assert refused.status_code == 400 and "确认删除" in refused.get_data(as_text=True)
    done = admin.post("/admin/privacy/erase", {"phone": phone, "confirm": "y"}, follow=True)
    assert "已删除该市民的个人信息" in done.get_data(as_text=True)
    gone = admin.post("/admin/privacy/erase", {"phone": phone, "confirm": "y"})
    assert gone.status_code == 404 and "没有这个号码" in gone.get_data(as_text=True)
    assert Browser(app, "monitor1").get("/admin/privacy").status_code == 403


def test_retention_reports_first_then_the_job_erases_only_people_past_the_limit(app, make_case, phone):
    from hotline.extensions import db
    from hotline.models import Case as CaseRow
    from hotline.models import CitizenErasure
    from hotline.privacy import retention
    from workers.jobs.privacy import apply_retention

    old_phone, recent_phone = phone, "137" + phone[3:]
    long_ago = datetime.now(UTC) - timedelta(days=5 * 365)
    old = make_case("closed", phone=old_phone, citizen_name="周老", at=long_ago)
    recent = make_case("closed", phone=recent_phone, citizen_name="吴新")
    with app.app_context():
        old_citizen = db.session.get(CaseRow, old.id).citizen_id
        recent_citizen = db.session.get(CaseRow, recent.id).citizen_id

        dry = retention.report(datetime.now(UTC), 3)
        assert old_citizen in [s["citizen_id"] for s in dry.sample] or dry.people > len(dry.sample)
        assert recent_citizen not in [s["citizen_id"] for s in dry.sample]
        assert db.session.get(CitizenErasure, old_citizen) is None  # a dry run changes nothing

    settings = app.config["HOTLINE"]
    saved = (settings.retention_years, settings.retention_apply)
    try:
        settings.retention_years, settings.retention_apply = 3, False
        with app.app_context():
            report_only = apply_retention()
            assert report_only["applied"] is False and report_only["people"] >= 1
            assert db.session.get(CitizenErasure, old_citizen) is None
        settings.retention_apply = True
        with app.app_context():
            applied = apply_retention()
            assert applied["applied"] is True and applied["people"] >= 1
            assert db.session.get(CitizenErasure, old_citizen).reason == "retention"
            assert db.session.get(CitizenErasure, recent_citizen) is None
            assert db.session.get(CaseRow, old.id).content == old.content
            assert apply_retention()["people"] == 0  # safe to run twice
    finally:
        settings.retention_years, settings.retention_apply = saved
    assert _audit(app, "pipl.retention.report") and _audit(app, "pipl.retention")


def test_retention_command_reports_unless_applied(app):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["privacy", "retention"])
    assert out.exit_code != 0 and "未设置保存期限" in out.output
    out = runner.invoke(args=["privacy", "retention", "--years", "50"])
    assert out.exit_code == 0 and "试运行" in out.output and "将删除 0 人" in out.output

"""The administration audit log (issue 17): admin changes with before/after, logins folded in, the auditor role,
the page with filters and CSV, and append-only — the database refuses UPDATE and DELETE."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
import sqlalchemy as sa

from hotline.seed.city import DEMO_PASSWORD
from tests.integration.test_pages import Browser


def _auditor(app) -> str:
    from hotline.auth.passwords import hash_password
    from hotline.extensions import db
    from hotline.models import User

    username = f"aud_{uuid.uuid4().hex[:6]}"
    with app.app_context():
        db.session.add(
            User(username=username, name="审计员甲", role="auditor", password_hash=hash_password(DEMO_PASSWORD))
        )
        db.session.commit()
    return username


def _events(app, **where):
    from hotline.extensions import db
    from hotline.models import AuditEvent

    with app.app_context():
        query = sa.select(AuditEvent).order_by(AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        rows = db.session.scalars(query).all()
        return [
            {
                c: getattr(r, c)
                for c in ("id", "actor_name", "action", "target_type", "target_id", "before", "after", "ip")
            }
            for r in rows
        ]


def test_a_unit_edit_is_audited_with_before_and_after(app, api):
    code = "A" + uuid.uuid4().hex[:7].upper()
    admin = api("admin")
    resp = admin.post(
        "/units", json={"code": code, "name": "审计测试社区", "kind": "community", "parent_code": "D01S01"}
    )
    assert resp.status_code == 201, resp.get_json()
    resp = admin.client.patch(
        f"/api/v1/units/{code}", json={"name": "审计测试社区二"}, headers={"Authorization": f"Bearer {admin.token}"}
    )
    assert resp.status_code == 200, resp.get_json()
    rows = _events(app, target_type="unit", target_id=code)
    assert [r["action"] for r in rows] == ["org.unit.create", "org.unit.update"]
    assert rows[0]["before"] is None and rows[0]["after"]["name"] == "审计测试社区"
    assert rows[1]["before"]["name"] == "审计测试社区" and rows[1]["after"]["name"] == "审计测试社区二"
    assert rows[1]["actor_name"] == "admin"


def test_a_refused_edit_leaves_no_audit_row(app, api):
    code = "A" + uuid.uuid4().hex[:7].upper()
    resp = api("admin").post(
        "/units", json={"code": code, "name": "错上级社区", "kind": "community", "parent_code": "D01"}
    )
    assert resp.status_code == 400
    assert _events(app, target_id=code) == []


def test_sla_policy_holiday_and_routing_rule_changes_are_audited(app, api):
    admin = api("admin")
    policy = admin.get("/sla/policy").get_json()
    resp = admin.post(
        "/sla/policy", json={"rules": {"sign/normal": {"amount": 2, "unit": "work_days"}}, "note": "审计"}
    )
    assert resp.status_code == 201
    version = resp.get_json()["version"]
    row = _events(app, action="sla.policy.publish", target_id=str(version))[-1]
    assert row["after"] == {"sign/normal": {"amount": 2, "unit": "work_days"}}
    assert row["before"] == (policy["rules"] if policy["version"] else None)
    admin.post("/sla/policy", json={"rules": policy["rules"], "note": "还原"})

    assert (
        admin.post("/sla/holidays", json={"day": "2031-05-02", "is_workday": False, "note": "劳动节"}).status_code
        == 200
    )
    assert (
        admin.post("/sla/holidays", json={"day": "2031-05-02", "is_workday": True, "note": "调休"}).status_code == 200
    )
    delete = admin.client.delete("/api/v1/sla/holidays/2031-05-02", headers={"Authorization": f"Bearer {admin.token}"})
    assert delete.status_code == 200
    rows = _events(app, target_type="holiday", target_id="2031-05-02")
    assert [r["action"] for r in rows][-3:] == ["sla.holiday.set", "sla.holiday.set", "sla.holiday.delete"]
    assert rows[-2]["before"] == [{"day": "2031-05-02", "is_workday": False, "note": "劳动节"}]
    assert rows[-1]["before"] == {"day": "2031-05-02", "is_workday": True, "note": "调休"}

    resp = admin.post("/routing/rules", json={"keyword": "审计关键词", "department_code": "CGJ", "priority": 5})
    assert resp.status_code == 201, resp.get_json()
    rule_id = resp.get_json()["id"]
    admin.client.delete(f"/api/v1/routing/rules/{rule_id}", headers={"Authorization": f"Bearer {admin.token}"})
    rows = _events(app, target_type="routing_rule", target_id=str(rule_id))
    assert [r["action"] for r in rows] == ["routing.rule.create", "routing.rule.delete"]
    assert rows[0]["after"]["keyword"] == "审计关键词" and rows[1]["before"]["department"] == "CGJ"


def test_unmasking_a_number_is_in_the_audit_log(app, api, make_case):
    case = make_case("registered")
    from hotline.extensions import db
    from hotline.models import Case

    with app.app_context():
        citizen_id = db.session.get(Case, case.id).citizen_id
    assert api("agent1").post(f"/citizens/{citizen_id}/unmask").status_code == 200
    rows = _events(app, action="citizen.unmask", target_id=str(citizen_id))
    assert rows and rows[-1]["actor_name"] == "agent1"


def test_the_auditor_reads_the_log_and_nothing_else(app):
    username = _auditor(app)
    Browser(app, "nobody_" + uuid.uuid4().hex[:4], "wrong-password")  # a failed login, folded into the log
    auditor = Browser(app, username)
    assert auditor.login.status_code == 302 and auditor.login.headers["Location"].endswith("/admin/audit")
    page = auditor.html("/admin/audit")
    assert "审计日志" in page and "登录失败" in page
    assert auditor.get("/cases").status_code == 403
    assert auditor.get("/admin/org/units").status_code == 403
    assert auditor.get("/console").status_code in (302, 403)
    assert Browser(app, "agent1").get("/admin/audit").status_code == 403

    only_logins = auditor.html(f"/admin/audit?kind=login&actor={username}")
    assert 'data-action="login.success"' in only_logins and 'data-action="org.' not in only_logins
    bad = auditor.get("/admin/audit?from=2026-13-01")
    assert bad.status_code == 400 and "日期格式应为" in bad.get_data(as_text=True)

    export = auditor.get("/admin/audit.csv?action=login.")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["时间", "类别", "操作人"]
    assert rows[1:] and all(r[5].startswith("login.") for r in rows[1:])
    assert any(r[2] == username and r[5] == "login.success" for r in rows[1:])
    assert _events(app, action="audit.export", actor_name=username)  # the export itself is audited


def test_audit_api_filters_and_answers_bad_filters_in_chinese(app, api, tokens):
    admin = api("admin")
    resp = admin.get("/audit?kind=admin&limit=5&changes=1")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["total"] >= len(body["events"]) and len(body["events"]) <= 5
    assert all(e["kind"] == "admin" and "changes" in e for e in body["events"])
    bad = admin.get("/audit?kind=everything")
    assert bad.status_code == 400 and "类别" in bad.get_json()["error"]["message"]
    assert api("agent1").get("/audit").status_code == 403


def _try_change(app, statement: str) -> Exception | None:
    from hotline.extensions import db

    with app.app_context():
        try:
            db.session.execute(sa.text(statement))
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            return exc
    return None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET detail = 'tampered'",
        "DELETE FROM audit_events",
        "UPDATE audit_events SET before = NULL",
    ],
)
def test_the_database_refuses_to_change_or_delete_audit_rows(app, api, statement):
    code = "A" + uuid.uuid4().hex[:7].upper()
    api("admin").post("/units", json={"code": code, "name": "只追加社区", "kind": "community", "parent_code": "D01S01"})
    before = _events(app)
    error = _try_change(app, statement)
    assert error is not None and "append-only" in str(error)
    assert _events(app) == before


def test_the_app_has_no_path_that_changes_an_audit_row(app):
    """No route answers PUT/PATCH/DELETE on the audit log; the module exposes writing and reading only."""
    import hotline.audit as audit

    methods = {
        m
        for rule in app.url_map.iter_rules()
        if "audit" in rule.rule
        for m in rule.methods
        if m not in ("HEAD", "OPTIONS")
    }
    assert methods == {"GET"}
    assert [n for n in audit.__all__ if n not in ("record", "snapshot", "current_actor")] == []


def test_imports_from_the_command_line_are_audited(app, tmp_path):
    code = "A" + uuid.uuid4().hex[:7].upper()
    units = tmp_path / "units.csv"
    units.write_text(f"code,name,kind,parent_code,aliases\n{code},命令行导入社区,community,D01S01,\n", encoding="utf-8")
    out = app.test_cli_runner().invoke(args=["org", "import", str(units)])
    assert out.exit_code == 0, out.output
    rows = [r for r in _events(app, action="org.import") if r["target_id"] == "units.csv"]
    assert rows and rows[-1]["actor_name"] == ""  # the command line: no signed-in actor

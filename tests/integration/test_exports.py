"""Exports (hotline/exports): POST /api/v1/exports, the job, GET /api/v1/exports/ID, the file opened for real."""

from __future__ import annotations

import csv
import io
from collections import Counter

import openpyxl
import pytest

from tests.helpers import run_jobs


def _export(api, app, user, body):
    resp = api(user).post("/exports", json=body)
    assert resp.status_code == 202, resp.get_json()
    export_id = resp.get_json()["id"]
    before = api(user).get(f"/exports/{export_id}").get_json()
    assert before["status"] == "queued" and before["progress"] == 0 and before["url"] is None
    assert run_jobs(app) >= 1  # a real RQ worker runs the queued export job
    status = api(user).get(f"/exports/{export_id}").get_json()
    assert status["status"] == "done" and status["progress"] == 1.0, status
    file = api(user).client.get(status["url"], headers=api(user)._headers())
    assert file.status_code == 200
    return export_id, status, file.data


def _api_total(api, user, **query):
    resp = api(user).get("/cases", query_string=query)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["total"]


def test_xlsx_of_cases_matches_the_case_list(api, app, phone, make_case):
    for status in ("dispatched", "dispatched", "handling", "handling", "handling"):
        make_case(status, unit="ZJJ", phone=phone, citizen_name="王小明")
    filters = {"department": "ZJJ", "status": "dispatched,handling"}
    _, status, data = _export(api, app, "agent1", {"what": "cases", "format": "xlsx", "filters": filters})
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[0] == "工单编号" and header[5] == "状态"
    expected = _api_total(api, "agent1", department="ZJJ", status="dispatched,handling")
    assert len(body) == expected == status["total"] == status["rows"] >= 5
    by_status = Counter(r[5] for r in body)
    assert by_status["已派单"] == _api_total(api, "agent1", department="ZJJ", status="dispatched")
    assert by_status["办理中"] == _api_total(api, "agent1", department="ZJJ", status="handling")
    mine = [r for r in body if r[11] == phone]
    assert len(mine) == 5 and all(r[10] == "王小明" for r in mine)  # agent1 may unmask: full phone and name
    assert len({r[0] for r in body}) == len(body)


def test_masked_for_a_department_user_and_csv(api, app, phone, make_case):
    make_case("dispatched", unit="ZJJ", phone=phone, citizen_name="李四海")
    _, status, data = _export(api, app, "handler_zjj", {"what": "cases", "format": "csv", "filters": {}})
    assert status["unmasked"] is False
    text = data.decode("utf-8-sig")
    assert phone not in text and "李四海" not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "工单编号"
    assert len(rows) - 1 == status["total"] == _api_total(api, "handler_zjj")
    assert any(r[11] == phone[:3] + "****" + phone[-4:] for r in rows[1:])


def test_only_the_requester_reads_and_downloads(api, app):
    export_id, status, _ = _export(api, app, "monitor1", {"what": "ranking", "format": "xlsx", "filters": {}})
    assert api("supervisor1").get(f"/exports/{export_id}").status_code == 404
    other = api("supervisor1")
    assert other.client.get(status["url"], headers=other._headers()).status_code == 404


def test_ranking_hot_and_ratings_exports(api, app, make_case):
    make_case("replied", unit="ZJJ")
    for what in ("ranking", "hot", "ratings"):
        _, status, data = _export(api, app, "supervisor1", {"what": what, "format": "xlsx", "filters": {}})
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        assert len(list(sheet.iter_rows(values_only=True))) - 1 == status["total"]
    ranking = api("supervisor1").get("/stats/departments").get_json()["departments"]
    _, status, data = _export(api, app, "supervisor1", {"what": "ranking", "format": "csv", "filters": {}})
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]
    assert [r[1] for r in rows] == [d["department_code"] for d in ranking]
    assert [int(r[3]) for r in rows] == [d["counts"]["dispatched"] for d in ranking]


def test_export_is_audited(api, app):
    from hotline.extensions import db
    from hotline.models import AuditEvent

    export_id, _, _ = _export(api, app, "monitor1", {"what": "hot", "format": "csv", "filters": {"by": "area"}})
    with app.app_context():
        actions = {
            a
            for (a,) in db.session.execute(
                db.select(AuditEvent.action).where(
                    AuditEvent.target_type == "export", AuditEvent.target_id == str(export_id)
                )
            )
        }
    assert actions == {"export.create", "export.download"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"what": "everything", "format": "xlsx"}, "what"),
        ({"what": "cases", "format": "pdf"}, "format"),
        ({"what": "cases", "format": "xlsx", "filters": {"status": "nonsense"}}, "status"),
        ({"what": "cases", "format": "xlsx", "filters": {"from": "2026-13-01"}}, "from"),
        ({"what": "cases", "format": "xlsx", "filters": {"password": "x"}}, "filters"),
        ({"what": "cases", "format": "xlsx", "filters": {"department": "NOPE"}}, "department"),
    ],
)
def test_bad_requests_are_chinese_400s(api, body, field):
    resp = api("agent1").post("/exports", json=body)
    assert resp.status_code == 400, resp.get_json()
    error = resp.get_json()["error"]
    assert field in error.get("fields", {}) and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])


def test_audit_export_needs_audit_view(api):
    assert api("monitor1").post("/exports", json={"what": "audit", "format": "csv"}).status_code == 403


def test_export_pages(app, api, make_case):
    from tests.integration.test_pages import Browser

    make_case("dispatched", unit="ZJJ")
    browser = Browser(app, "monitor1")
    assert "新建导出" in browser.html("/exports?what=cases&status=dispatched")
    assert 'value="dispatched"' in browser.html("/exports?what=cases&status=dispatched")
    resp = browser.post("/exports", {"what": "cases", "format": "csv", "status": "dispatched"})
    assert resp.status_code == 302 and "/exports/" in resp.headers["Location"]
    page = browser.html(resp.headers["Location"])
    assert 'id="export-bar"' in page and "排队中" in page
    refused = browser.post("/exports", {"what": "cases", "format": "csv", "status": "nonsense"}, follow=True)
    assert "未知的状态" in refused.get_data(as_text=True)
    assert "风险预警" in browser.html("/alerts")
    assert "导出 Excel/CSV" in browser.html("/cases")

"""Monthly report (hotline/reports): the job writes the HTML and a real PDF (WeasyPrint), the pages serve them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.helpers import run_jobs
from tests.integration.test_pages import Browser


def test_report_of_a_month_with_cases(app, api, make_case, clock):
    from hotline.extensions import db
    from hotline.models import MonthlyReport
    from hotline.reports.content import build

    now = clock()
    period = (now - timedelta(days=40)).strftime("%Y-%m")
    at = datetime.fromisoformat(period + "-10T02:00:00").replace(tzinfo=UTC)
    for _ in range(3):
        make_case("replied", unit="ZJJ", category="城乡建设", district="D01S01", at=at, step=timedelta(hours=1))
    with app.app_context():
        data = build(
            period,
            "Asia/Shanghai",
            ({5: 1, 4: 1, 3: 1, 2: 0, 1: 0}, {"response": 0.3, "resolution": 0.35, "satisfaction": 0.35}),
        )
        assert data["total"] >= 3
        zjj = next(u for u in data["ranking"] if u["department_code"] == "ZJJ")
        assert zjj["counts"]["dispatched"] >= 3
        assert any(h["name"] == "东城区" and h["count"] >= 3 for h in data["hot_areas"])
    client = Browser(app, "supervisor1")
    assert "月度通报" in client.html("/reports")
    resp = client.post("/reports", {"period": period})
    assert resp.status_code in (302, 303)
    run_jobs(app)
    with app.app_context():
        report = db.session.scalar(db.select(MonthlyReport).where(MonthlyReport.period == period))
        assert report.status == "done" and report.pdf_file, report.error
    html = client.get(f"/reports/{period}")
    text = html.get_data(as_text=True)
    assert html.status_code == 200 and "承办单位排名" in text and "市住房和城乡建设局" in text
    pdf = client.get(f"/reports/{period}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and len(pdf.data) > 5000
    assert Browser(app, "handler_zjj").get("/reports").status_code == 403


def test_the_job_makes_last_months_report_once(app):
    from hotline.extensions import db
    from hotline.models import MonthlyReport
    from workers.jobs.reports import generate_monthly_report

    with app.app_context():
        first = generate_monthly_report()
        again = generate_monthly_report()
        assert first["period"] == again["period"] and first["status"] == "done"
        rows = db.session.scalars(db.select(MonthlyReport).where(MonthlyReport.period == first["period"])).all()
        assert len(rows) == 1


def test_bad_period_is_refused_politely(app):
    client = Browser(app, "supervisor1")
    resp = client.post("/reports", {"period": "2026-13"}, follow=True)
    assert "月份格式应为" in resp.get_data(as_text=True)
    assert client.get("/reports/2026-13").status_code == 404

"""Render a month's report to HTML (kept for the browser) and to PDF (WeasyPrint; CJK text in the fonts installed
by ``make fonts`` — WenQuanYi Micro Hei by default)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, render_template

from hotline.config import ROOT
from hotline.extensions import db
from hotline.models import MonthlyReport
from hotline.reports.content import build
from hotline.stats import metrics

log = logging.getLogger(__name__)
CSS = ROOT / "static" / "css" / "report.css"
GENERATE_REPORT = "workers.jobs.reports.generate_monthly_report"


def folder() -> Path:
    path = Path(current_app.config["HOTLINE"].instance) / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _weights() -> tuple[dict, dict]:
    s = current_app.config["HOTLINE"]
    try:
        return (
            metrics.parse_weights(s.stats_score_weights, {1, 2, 3, 4, 5}, int),
            metrics.parse_weights(s.stats_composite, set(metrics.DEFAULT_COMPOSITE)),
        )
    except ValueError:
        return dict(metrics.DEFAULT_SCORE_WEIGHTS), dict(metrics.DEFAULT_COMPOSITE)


def html_of(period: str, css_href: str) -> str:
    data = build(period, current_app.config["HOTLINE"].timezone, _weights())
    return render_template("reports/monthly.html", r=data, css_href=css_href, generated=datetime.now(UTC))


def generate(period: str, requested_by: int | None = None, force: bool = False) -> MonthlyReport:
    """Write the HTML and the PDF of ``period`` (YYYY-MM) and record them; a done report is kept unless ``force``."""
    report = db.session.scalar(sa.select(MonthlyReport).where(MonthlyReport.period == period))
    if report is None:
        report = MonthlyReport(period=period, status="queued", requested_by_id=requested_by)
        db.session.add(report)
        db.session.flush()
    elif report.status == "done" and not force:
        return report
    base = folder()
    html_path, pdf_path = base / f"{period}.html", base / f"{period}.pdf"
    with current_app.test_request_context("/"):  # url_for in the template outside a request (a job)
        page = html_of(period, "/static/css/report.css")
        printable = html_of(period, CSS.as_uri())
    html_path.write_text(page, encoding="utf-8")
    try:
        from weasyprint import HTML

        HTML(string=printable, base_url=str(ROOT)).write_pdf(pdf_path)
        report.pdf_file, report.error = pdf_path.name, ""
    except Exception as exc:  # no pango on this host: the HTML stays available, printable from the browser
        log.exception("monthly report %s: PDF not written", period)
        report.pdf_file, report.error = "", f"PDF 生成失败：{type(exc).__name__}"
    report.html_file, report.status, report.generated_at = html_path.name, "done", datetime.now(UTC)
    return report

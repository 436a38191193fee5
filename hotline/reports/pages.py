"""Monthly reports (/reports): the list, one report's HTML and PDF, and "generate now" (a job)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from hotline.auth.permissions import authenticate_page, can, requires
from hotline.extensions import db
from hotline.jobs import DEFAULT, enqueue_on_commit
from hotline.models import MonthlyReport
from hotline.reports.content import previous_period
from hotline.reports.render import GENERATE_REPORT, folder

reports_bp = Blueprint("reports", __name__)
reports_bp.before_request(authenticate_page)
PERIOD = re.compile(r"20\d\d-(0[1-9]|1[0-2])")


def _report(period: str) -> MonthlyReport:
    report = (
        db.session.scalar(sa.select(MonthlyReport).where(MonthlyReport.period == period))
        if PERIOD.fullmatch(period)
        else None
    )
    if report is None or report.status != "done":
        abort(404)
    return report


@reports_bp.get("/reports")
@requires("report.view")
def index():
    reports = db.session.scalars(sa.select(MonthlyReport).order_by(MonthlyReport.period.desc()).limit(60)).all()
    zone = ZoneInfo(current_app.config["HOTLINE"].timezone)
    last = previous_period(datetime.now(UTC).astimezone(zone).strftime("%Y-%m"))
    return render_template(
        "reports/index.html", reports=reports, last=last, may_generate=can(current_user, "report.generate")
    )


@reports_bp.post("/reports")
@requires("report.generate")
def create():
    period = request.form.get("period", "").strip()
    if not PERIOD.fullmatch(period):
        flash("月份格式应为 YYYY-MM，例如 2026-11", "error")
        return redirect(url_for("reports.index"))
    row = db.session.scalar(sa.select(MonthlyReport).where(MonthlyReport.period == period))
    if row is None:
        db.session.add(MonthlyReport(period=period, status="queued", requested_by_id=current_user.id))
    else:
        row.status = "queued"
    enqueue_on_commit(GENERATE_REPORT, period, current_user.id, True, queue=DEFAULT)
    db.session.commit()
    flash(f"{period} 月度通报正在生成，稍后刷新本页即可查看", "success")
    return redirect(url_for("reports.index"))


@reports_bp.get("/reports/<period>")
@requires("report.view")
def show(period: str):
    report = _report(period)
    return send_file(folder() / report.html_file, mimetype="text/html")


@reports_bp.get("/reports/<period>.pdf")
@requires("report.view")
def pdf(period: str):
    report = _report(period)
    if not report.pdf_file:
        abort(404)
    return send_file(
        folder() / report.pdf_file,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"12345月度通报-{period}.pdf",
    )

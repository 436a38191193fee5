"""Personal-data rights for the admin (``privacy.admin``): the page ``/admin/privacy`` (find a person by phone
number, export a ZIP, erase; the retention limit's dry-run report and its application) and the same under
``/api/v1/privacy``. Every export, erasure and retention run is audited."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from hotline import audit
from hotline.auth.permissions import authenticate_api, authenticate_page, requires
from hotline.cases.errors import DomainError, InvalidInput
from hotline.extensions import db
from hotline.privacy import erase as eraser
from hotline.privacy import export, retention
from hotline.privacy.person import by_phone
from hotline.web.validation import Bool, Str, json_body, parse

privacy_bp = Blueprint("privacy", __name__, url_prefix="/admin/privacy")
privacy_bp.before_request(authenticate_page)
privacy_api_bp = Blueprint("privacy_api", __name__)
privacy_api_bp.before_request(authenticate_api)

PHONE = {"phone": Str("电话号码", required=True, max_len=40)}


def _years() -> float:
    return current_app.config["HOTLINE"].retention_years


def _zip_response(files) -> Response:
    data = export.collect(files)
    masked = [p["number"] for p in data["person"]["phones"]]
    audit.record(
        current_user,
        "pipl.export",
        "citizen",
        files[0].id,
        after={"files": [f.id for f in files], "cases": len(data["cases"]), "calls": len(data["calls"])},
        detail=f"导出个人信息：{len(data['cases'])} 件工单、{len(data['calls'])} 次来电、{len(masked)} 个号码/身份",
    )
    db.session.commit()
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return Response(
        export.zip_bytes(data),
        mimetype="application/zip",
        headers={
            "Content-Disposition": f"attachment; filename=personal-data-{files[0].id}-{stamp}.zip",
            "Cache-Control": "no-store",
        },
    )


def _erase(files) -> eraser.Erased:
    result = eraser.erase(files, current_user)
    db.session.commit()
    return result


def _report_dict(report: retention.Report) -> dict:
    return {
        "years": report.years,
        "cutoff": report.cutoff.isoformat() if report.cutoff else None,
        "people": report.people,
        "cases": report.cases,
        "sample": report.sample,
        "applied": report.applied,
    }


# --- page ---------------------------------------------------------------------------------------


def _render(status: int = 200, problem: str = "", report: retention.Report | None = None):
    settings = current_app.config["HOTLINE"]
    return (
        render_template(
            "privacy/index.html",
            problem=problem,
            report=report,
            years=settings.retention_years,
            apply_enabled=settings.retention_apply,
        ),
        status,
    )


@privacy_bp.get("")
@requires("privacy.admin")
def index():
    return _render()


@privacy_bp.post("/export")
@requires("privacy.admin")
def export_page():
    try:
        files = by_phone((request.form.get("phone") or "")[:40])
    except DomainError as err:
        return _render(404 if err.status == 404 else 400, err.message)
    return _zip_response(files)


@privacy_bp.post("/erase")
@requires("privacy.admin")
def erase_page():
    if request.form.get("confirm") != "y":
        return _render(400, "请勾选“确认删除”：删除后无法恢复")
    try:
        files = by_phone((request.form.get("phone") or "")[:40])
    except DomainError as err:
        return _render(404 if err.status == 404 else 400, err.message)
    result = _erase(files)
    flash(
        f"已删除该市民的个人信息：{result.files} 个档案、{result.phones} 个号码/身份；"
        f"{result.cases} 件工单保留内容并已匿名",
        "success",
    )
    return redirect(url_for("privacy.index"))


@privacy_bp.get("/retention")
@requires("privacy.admin")
def retention_page():
    if _years() <= 0:
        return _render(400, "未设置保存期限（HOTLINE_RETENTION_YEARS），不会自动删除个人信息")
    report = retention.report(datetime.now(UTC), _years())
    retention.record_dry_run(report, current_user)
    db.session.commit()
    return _render(report=report)


@privacy_bp.post("/retention")
@requires("privacy.admin")
def retention_apply():
    if _years() <= 0:
        return _render(400, "未设置保存期限（HOTLINE_RETENTION_YEARS），不会自动删除个人信息")
    if request.form.get("confirm") != "y":
        return _render(400, "请先查看试运行报告，并勾选“确认按保存期限删除”")
    result = retention.apply(datetime.now(UTC), _years(), current_user)
    db.session.commit()
    flash(f"已按保存期限删除 {result.people} 人的个人信息，{result.cases} 件工单已匿名", "success")
    return redirect(url_for("privacy.index"))


# --- API ----------------------------------------------------------------------------------------


@privacy_api_bp.post("/privacy/export")
@requires("privacy.admin")
def api_export():
    phone = parse(PHONE, json_body())["phone"]
    return _zip_response(by_phone(phone))


@privacy_api_bp.post("/privacy/erase")
@requires("privacy.admin")
def api_erase():
    body = json_body()
    data = parse({**PHONE, "confirm": Bool("确认删除", required=True)}, body)
    if data["confirm"] is not True:
        raise InvalidInput("confirm_required", "删除个人信息无法恢复：请传 confirm: true 确认")
    result = _erase(by_phone(data["phone"]))
    return jsonify({"files": result.files, "phones": result.phones, "cases_anonymised": result.cases})


@privacy_api_bp.get("/privacy/retention")
@requires("privacy.admin")
def api_retention():
    report = retention.report(datetime.now(UTC), _years())
    if _years() > 0:
        retention.record_dry_run(report, current_user)
        db.session.commit()
    return jsonify(_report_dict(report))

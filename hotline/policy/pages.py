"""Admin pages for the SLA policy and the holiday table (``sla.admin``; zh-CN, CSRF):

- ``/admin/policy/sla``: the limits in force by milestone × urgency / case kind / category, edited and published as
  the next version (the same checks as POST /api/v1/sla/policy), with the history of versions;
- ``/admin/policy/holidays``: a year's overrides, one day added or removed, a year imported from CSV/XLSX
  (``date,kind,name``), and which years are missing.

Also the banner every monitor and admin sees while a year is missing (``calendar_banner`` in templates)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from hotline import audit
from hotline.api.sla import UNIT_LABELS, validate_rules
from hotline.auth.permissions import authenticate_page, requires
from hotline.auth.roles import Role
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models import Holiday
from hotline.models.cases import KINDS
from hotline.org import sheets
from hotline.policy import holidays as hol
from hotline.policy import sla_policy
from hotline.sla import deadlines

policy_bp = Blueprint("policy", __name__, url_prefix="/admin/policy")
policy_bp.before_request(authenticate_page)

UPLOAD_MAX = 1024 * 1024
BANNER_ROLES = (Role.MONITOR, Role.ADMIN)


def _today() -> date:
    return datetime.now(ZoneInfo(current_app.config["HOTLINE"].timezone)).date()


@policy_bp.app_context_processor
def _banner():
    def calendar_banner() -> str:
        user = current_user
        if not getattr(user, "is_authenticated", False) or user.role not in BANNER_ROLES:
            return ""
        try:
            return deadlines.cached("banner:" + _today().isoformat(), lambda: hol.banner(_today()))
        except Exception:  # a page must not fail over its banner (database hiccup)
            current_app.logger.exception("calendar banner")
            return ""

    return {"calendar_banner": calendar_banner}


# --- SLA policy ---------------------------------------------------------------------------------


def _render_sla(problems: dict | None = None, status: int = 200, values: dict | None = None):
    row = sla_policy.active()
    rules = values if values is not None else (row.rules if row else deadlines.default_rules())
    hours = rules.get(deadlines.OFFICE_HOURS_KEY) or deadlines.DEFAULT_OFFICE_HOURS
    return (
        render_template(
            "policy/sla.html",
            policy=row,
            rows=sla_policy.rows_of(rules, KINDS),
            hours=hours,
            history=sla_policy.history(),
            units=UNIT_LABELS,
            milestones=sla_policy.MILESTONE_LABELS,
            tiers=sla_policy.TIER_LABELS,
            kinds=KINDS,
            problems=problems or {},
            warnings=deadlines.calendar_warnings(_today()),
        ),
        status,
    )


@policy_bp.get("/sla")
@requires("sla.admin")
def sla_page():
    return _render_sla()


def _amount(raw: str):
    raw = (raw or "").strip()
    try:
        value = float(raw)
    except ValueError:
        return raw  # validate_rules names it
    return int(value) if value.is_integer() else value


def _rules_from_form(form) -> dict:
    rules: dict = {}
    for key in form.getlist("key"):
        if form.get(f"drop:{key}"):
            continue
        rules[key] = {"amount": _amount(form.get(f"amount:{key}", "")), "unit": form.get(f"unit:{key}", "")}
    milestone, selector = form.get("new_milestone", ""), (form.get("new_selector") or "").strip()
    if selector:
        rules[f"{milestone}/{selector}"] = {"amount": _amount(form.get("new_amount", "")), "unit": form.get("new_unit")}
    rules[deadlines.OFFICE_HOURS_KEY] = {"start": form.get("office_start", ""), "end": form.get("office_end", "")}
    return rules


@policy_bp.post("/sla")
@requires("sla.admin")
def sla_publish():
    rules = _rules_from_form(request.form)
    note = (request.form.get("note") or "").strip()
    if len(note) > 500:
        return _render_sla({"note": "说明不能超过 500 个字"}, 400, rules)
    try:
        valid = validate_rules(rules)
    except ApiError as err:
        return _render_sla(err.fields or {"rules": err.message}, 400, rules)
    row = sla_policy.publish(valid, note, current_user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash("时限策略刚被他人修改，请刷新后重试", "error")
        return redirect(url_for("policy.sla_page"))
    deadlines.clear_cache()
    flash(f"已发布时限策略第 {row.version} 版：新派发的工单按新时限计算，进行中的工单保持原时限", "success")
    return redirect(url_for("policy.sla_page"))


# --- holidays -----------------------------------------------------------------------------------


def _year() -> int:
    raw = request.args.get("year", "")
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else _today().year


def _render_holidays(year: int, result: dict | None = None, status: int = 200, problem: str = ""):
    today = _today()
    return (
        render_template(
            "policy/holidays.html",
            year=year,
            rows=hol.listing(year),
            years=list(range(today.year - 1, today.year + 3)),
            knows={y: deadlines.library_knows(y) for y in range(today.year - 1, today.year + 3)},
            missing=hol.missing_years(today),
            banner=hol.banner(today),
            result=result,
            problem=problem,
        ),
        status,
    )


@policy_bp.get("/holidays")
@requires("sla.admin")
def holidays_page():
    return _render_holidays(_year())


@policy_bp.post("/holidays")
@requires("sla.admin")
def holiday_set():
    form = request.form
    try:
        day = date.fromisoformat(form.get("day", ""))
    except ValueError:
        return _render_holidays(_year(), problem="日期格式应为 2027-01-01", status=400)
    kind, note = form.get("kind", ""), (form.get("note") or "").strip()
    if kind not in ("holiday", "workday") or len(note) > 100 or not 2000 <= day.year <= 2100:
        return _render_holidays(day.year, problem="请选择放假或调休上班，说明不超过 100 字", status=400)
    report = hol.apply([(0, day, kind == "workday", note)], [], actor=current_user)
    db.session.commit()
    flash(f"{day} 已设为{'调休上班' if kind == 'workday' else '放假'}（{hol.summary(report)}）", "success")
    return redirect(url_for("policy.holidays_page", year=day.year))


@policy_bp.post("/holidays/<day>/delete")
@requires("sla.admin")
def holiday_delete(day: str):
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        return _render_holidays(_year(), problem="日期格式应为 2027-01-01", status=400)
    row = db.session.get(Holiday, parsed)
    if row is None:
        return _render_holidays(parsed.year, problem=f"节假日表中没有 {parsed}", status=404)
    audit.record(
        current_user,
        "sla.holiday.delete",
        "holiday",
        parsed.isoformat(),
        before={"day": parsed.isoformat(), "is_workday": row.is_workday, "note": row.note},
    )
    db.session.delete(row)
    deadlines.changed()
    db.session.commit()
    flash(f"已删除 {parsed}", "success")
    return redirect(url_for("policy.holidays_page", year=parsed.year))


@policy_bp.post("/holidays/import")
@requires("sla.admin")
def holidays_import():
    upload = request.files.get("file")
    year = _year()
    if upload is None or not upload.filename:
        return _render_holidays(year, problem="请选择要导入的 CSV 或 XLSX 文件", status=400)
    raw = upload.read(UPLOAD_MAX + 1)
    if len(raw) > UPLOAD_MAX:
        return _render_holidays(year, problem="文件超过 1 MB", status=400)
    try:
        rows, errors = hol.parse(raw, upload.filename)
    except sheets.SheetError as err:
        return _render_holidays(year, problem=str(err), status=400)
    report = hol.apply(rows, errors, partial=bool(request.form.get("partial")), actor=current_user)
    if not report.applied:
        db.session.rollback()
        result = {"applied": False, "summary": f"共 {report.total} 行", "errors": errors}
        return _render_holidays(year, result, 400)
    db.session.commit()
    shown = report.years[0] if report.years else year
    result = {"applied": True, "summary": hol.summary(report), "errors": errors}
    return _render_holidays(shown, result)

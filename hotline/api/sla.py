"""SLA administration: the versioned time-limit policy and the holiday table that overrides the official calendar.

GET  /api/v1/sla/policy            centre staff: the active version, its rules, history, calendar warnings
POST /api/v1/sla/policy            admin: {rules, note?} → a new version (validated; omitted keys keep the
                                   docs/domain.md defaults); running deadlines keep the limits they started with
GET  /api/v1/sla/holidays?year=Y   centre staff: the overrides (this year on without ``year``)
POST /api/v1/sla/holidays          admin: {day, is_workday, note?} or {days: [...]} → upsert
DELETE /api/v1/sla/holidays/DAY    admin
"""

from __future__ import annotations

import math
from datetime import date, datetime
from datetime import time as dtime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, jsonify, request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from hotline import audit
from hotline.api.blueprint import api_bp
from hotline.auth.permissions import requires
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models import Category, Holiday, SlaPolicy
from hotline.models.cases import KINDS
from hotline.policy import holidays, sla_policy
from hotline.sla import clock as sla
from hotline.sla import deadlines
from hotline.web.validation import Str, json_body, parse, whole_number

UNIT_LABELS = {
    "clock_hours": "小时（自然时间）",
    "work_hours": "工作小时",
    "work_days": "工作日",
    "natural_days": "自然日",
}
MAX_AMOUNT = {"clock_hours": 24 * 366, "work_hours": 9 * 366, "work_days": 366, "natural_days": 366}


def _today() -> date:
    return datetime.now(ZoneInfo(current_app.config["HOTLINE"].timezone)).date()


def _policy_dict(row: SlaPolicy | None) -> dict:
    rules = row.rules if row else deadlines.default_rules()
    return {
        "version": row.version if row else 0,
        "note": row.note if row else "",
        "rules": rules,
        "office_hours": rules.get(deadlines.OFFICE_HOURS_KEY, deadlines.DEFAULT_OFFICE_HOURS),
        "created_at": row.created_at.isoformat() if row else None,
        "units": UNIT_LABELS,
        "warnings": deadlines.calendar_warnings(_today()),
    }


def _active() -> SlaPolicy | None:
    return db.session.scalar(
        sa.select(SlaPolicy).where(SlaPolicy.active.is_(True)).order_by(SlaPolicy.version.desc()).limit(1)
    )


@api_bp.get("/sla/policy")
@requires("sla.view")
def get_policy():
    data = _policy_dict(_active())
    data["history"] = [
        {"version": v, "note": n, "active": a, "created_at": c.isoformat()}
        for v, n, a, c in db.session.execute(
            sa.select(SlaPolicy.version, SlaPolicy.note, SlaPolicy.active, SlaPolicy.created_at).order_by(
                SlaPolicy.version.desc()
            )
        )
    ]
    return jsonify(data)


def _check_limit(key: str, value) -> str | None:
    if not isinstance(value, dict):
        return '应为 {"amount": 数量, "unit": 单位}'
    amount, unit = value.get("amount"), value.get("unit")
    if unit not in sla.UNITS:
        return "单位无效，可选：" + "、".join(f"{k}（{v}）" for k, v in UNIT_LABELS.items())
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount) or amount <= 0:
        return "时限数量必须是大于 0 的数字"
    if amount > MAX_AMOUNT[unit]:
        return f"时限过长（最多 {MAX_AMOUNT[unit]} {UNIT_LABELS[unit]}）"
    return None


def _check_key(key: str) -> str | None:
    milestone, _, selector = key.partition("/")
    if milestone not in sla.MILESTONES:
        return "环节无效，可选：sign（签收）、contact（首次联系）、reply（答复）"
    if selector in sla.TIERS or selector in KINDS:
        return None
    if selector.startswith(sla.CATEGORY_PREFIX):
        path = selector[len(sla.CATEGORY_PREFIX) :]
        if db.session.scalar(sa.select(Category.id).where(Category.path == path)) is None:
            return f"分类不存在：{path[:60]}"
        return None
    return "应为 环节/紧急程度（emergency|urgent|normal|complex）、环节/诉求类型 或 环节/category:分类路径"


def _check_office_hours(value) -> tuple[dict | None, str | None]:
    try:
        start, end = dtime.fromisoformat(value["start"]), dtime.fromisoformat(value["end"])
    except (TypeError, KeyError, ValueError):
        return None, '办公时间应为 {"start": "09:00", "end": "18:00"}'
    if start >= end:
        return None, "办公时间的开始必须早于结束"
    return {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}, None


def validate_rules(rules) -> dict:
    """The rules to store, or a 400 naming every bad key."""
    if not isinstance(rules, dict) or not rules:
        raise ApiError(400, "invalid_input", "提交的内容有误：rules 必须是非空对象", {"rules": "必须是非空对象"})
    out, problems = {}, {}
    for key, value in rules.items():
        if key == deadlines.OFFICE_HOURS_KEY:
            hours, problem = _check_office_hours(value)
            out[key] = hours
        else:
            problem = _check_key(key) if isinstance(key, str) and len(key) <= 300 else "键无效"
            problem = problem or _check_limit(key, value)
            if not problem:
                out[key] = {"amount": value["amount"], "unit": value["unit"]}
        if problem:
            problems[f"rules.{key}"[:120]] = problem
    if problems:
        first_key, first = next(iter(problems.items()))
        raise ApiError(400, "invalid_input", f"提交的内容有误：{first_key}：{first}", problems)
    return out


@api_bp.post("/sla/policy")
@requires("sla.admin")
def post_policy():
    body = json_body()
    note = parse({"note": Str("说明", max_len=500)}, body)["note"] or ""
    rules = validate_rules(body.get("rules"))
    row = sla_policy.publish(rules, note, current_user)  # audited; every process within a second
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ApiError(409, "conflict", "时限策略刚被他人修改，请刷新后重试") from None
    deadlines.clear_cache()
    return jsonify(_policy_dict(row)), 201


# --- holidays -----------------------------------------------------------------------------------


def _holiday_dict(h: Holiday) -> dict:
    return {"day": h.day.isoformat(), "is_workday": h.is_workday, "note": h.note}


def _parse_day(value, field: str = "day") -> date:
    try:
        day = date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:
        problem = "日期格式应为 2027-01-01"
        raise ApiError(400, "invalid_input", f"提交的内容有误：{problem}", {field: problem})
    return day


@api_bp.get("/sla/holidays")
@requires("sla.view")
def list_holidays():
    raw = request.args.get("year", "")
    year = whole_number(raw, 2000, 2100) if raw else None  # ASCII digits: "²".isdigit() but int("²") fails
    if raw and year is None:
        raise ApiError(400, "invalid_input", "year 必须是 2000 到 2100 之间的年份", {"year": "年份无效"})
    query = sa.select(Holiday).order_by(Holiday.day)
    if year is not None:
        query = query.where(Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31))
    else:
        query = query.where(Holiday.day >= date(_today().year, 1, 1))
    rows = [_holiday_dict(h) for h in db.session.scalars(query)]
    return jsonify(
        {
            "year": year,
            "holidays": rows,
            "library_knows_year": deadlines.library_knows(year) if year is not None else None,
            "warnings": deadlines.calendar_warnings(_today()),
            # years whose schedule is neither in chinese-calendar nor in the table (next year from 1 November)
            "missing_years": holidays.missing_years(_today()),
        }
    )


@api_bp.post("/sla/holidays")
@requires("sla.admin")
def post_holidays():
    body = json_body()
    items = body.get("days") if "days" in body else [body]
    if not isinstance(items, list) or not items or len(items) > 400:
        raise ApiError(400, "invalid_input", "提交的内容有误：days 必须是 1 到 400 项的列表", {"days": "必须是列表"})
    saved, before = [], []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError(
                400, "invalid_input", f"提交的内容有误：第 {i + 1} 项必须是对象", {f"days.{i}": "必须是对象"}
            )
        day = _parse_day(item.get("day"))
        if not isinstance(item.get("is_workday"), bool):
            raise ApiError(
                400,
                "invalid_input",
                "提交的内容有误：is_workday 必须是 true（调休上班）或 false（放假）",
                {"is_workday": "必须是 true 或 false"},
            )
        note = parse({"note": Str("说明", max_len=100)}, item)["note"] or ""
        old = db.session.get(Holiday, day)
        before.append(_holiday_dict(old) if old is not None else {"day": day.isoformat()})
        saved.append(db.session.merge(Holiday(day=day, is_workday=item["is_workday"], note=note)))
    audit.record(
        current_user,
        "sla.holiday.set",
        "holiday",
        saved[0].day.isoformat() if len(saved) == 1 else f"{len(saved)} 天",
        before=before,
        after=[_holiday_dict(h) for h in saved],
    )
    deadlines.changed()
    db.session.commit()
    deadlines.clear_cache()
    return jsonify({"holidays": [_holiday_dict(h) for h in saved], "warnings": deadlines.calendar_warnings(_today())})


@api_bp.delete("/sla/holidays/<day>")
@requires("sla.admin")
def delete_holiday(day: str):
    row = db.session.get(Holiday, _parse_day(day))
    if row is None:
        raise ApiError(404, "not_found", f"节假日表中没有 {day[:20]}")
    audit.record(current_user, "sla.holiday.delete", "holiday", row.day.isoformat(), before=_holiday_dict(row))
    db.session.delete(row)
    deadlines.changed()
    db.session.commit()
    deadlines.clear_cache()
    return jsonify({"deleted": day, "warnings": deadlines.calendar_warnings(_today())})

"""统计分析: GET /api/v1/stats/overview, /stats/hot and /stats/cases (the cases behind a number).

Past days come from the daily rollup, today is counted live (hotline/stats/figures.py). A department user's figures
cover the cases its unit and sub-units lead.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, jsonify, request
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.api.serializers import case_summary
from hotline.auth.permissions import requires, statistics_scope, visible_cases_filter
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models import Assignment, Case, Category, Department
from hotline.models.cases import CHANNELS, KINDS
from hotline.stats import figures, queries, summaries
from hotline.stats.periods import Period, day_bounds, hour_bounds
from hotline.web import lookups

MAX_DAYS = 366
EARLIEST, LATEST = date(1900, 1, 1), date(9000, 12, 31)


def clock() -> figures.Clock:
    zone = ZoneInfo(current_app.config["HOTLINE"].timezone)
    return figures.Clock(zone, datetime.now(UTC))


def _day(name: str, label: str, default: date) -> date:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(
            400, "invalid_input", f"{label}格式不正确，应为 YYYY-MM-DD", {name: "日期格式为 YYYY-MM-DD"}
        ) from None


def int_arg(name: str, label: str, low: int, high: int, default: int | None = None) -> int | None:
    """A whole-number query argument within [low, high] (a clear 400 otherwise)."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not low <= int(raw) <= high:
        raise ApiError(
            400, "invalid_input", f"{label}应为 {low} 到 {high} 之间的整数", {name: f"取值范围 {low}–{high}"}
        )
    return int(raw)


def period_arg(now: figures.Clock) -> Period:
    """?from=&to= (local dates, both included; default: this month up to today)."""
    today = now.today
    first = _day("from", "开始日期", today.replace(day=1))
    last = _day("to", "结束日期", today)
    for name, label, day in (("from", "开始日期", first), ("to", "结束日期", last)):
        if not EARLIEST <= day <= LATEST:  # the previous period and last year must stay representable
            raise ApiError(400, "invalid_input", f"{label}超出范围", {name: f"应在 {EARLIEST} 至 {LATEST} 之间"})
    if first > last:
        raise ApiError(400, "invalid_input", "开始日期不能晚于结束日期", {"from": "晚于结束日期"})
    if (last - first).days >= MAX_DAYS:
        raise ApiError(400, "invalid_input", f"统计区间最长 {MAX_DAYS} 天", {"to": f"区间超过 {MAX_DAYS} 天"})
    return Period(first, last)


def scope_units() -> list[int] | None:
    """The unit ids whose cases a department user's figures cover; None for centre staff (the whole city)."""
    scope = statistics_scope(current_user)  # a sub-centre's (分中心) figures cover its district's units
    return None if scope is None else list(queries.units_in_scope(scope))


@api_bp.get("/stats/overview")
@requires("stats.view")
def stats_overview():
    now = clock()
    period, units = period_arg(now), scope_units()
    return jsonify(summaries.overview(period, now, units))


@api_bp.get("/stats/hot")
@requires("stats.view")
def stats_hot():
    now = clock()
    period, units = period_arg(now), scope_units()
    by = request.args.get("by", "category")
    if by not in summaries.BY:
        raise ApiError(
            400, "invalid_input", "by 只能是 category（分类）或 area（区域）", {"by": "可选：category、area"}
        )
    level = int_arg("level", "层级", 1, 3, 1)
    limit = int_arg("limit", "条数", 1, 100, 10)
    return jsonify(summaries.hot(period, now, units, by, level, limit))


@api_bp.get("/stats/cases")
@requires("stats.view")
def stats_cases():
    """The cases behind a number: ?from&to plus channel, kind, category (id, with its sub-categories), area (unit
    id, with its sub-units), day, hour (local) or unit (code: cases dispatched to that unit as lead in the period)."""
    now = clock()
    period = period_arg(now)
    args = request.args
    start, end = day_bounds(period.first, now.zone)[0], day_bounds(period.last, now.zone)[1]
    query = sa.select(Case).where(visible_cases_filter(current_user))
    if code := args.get("unit"):
        unit = lookups.department(code, "unit")
        query = query.where(
            sa.exists().where(
                Assignment.case_id == Case.id,
                Assignment.role == "lead",
                Assignment.department_id == unit.id,
                Assignment.assigned_at >= start,
                Assignment.assigned_at < end,
            )
        )
    else:
        query = query.where(Case.created_at >= start, Case.created_at < end, *_case_filters(args, period, now))
    page = int_arg("page", "页码", 1, 100000, 1)
    per_page = current_app.config["HOTLINE"].page_size
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.options(so.selectinload(Case.category), so.selectinload(Case.district))
        .order_by(Case.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return jsonify({"items": [case_summary(c) for c in rows], "page": page, "per_page": per_page, "total": total})


def _case_filters(args, period: Period, now: figures.Clock) -> list:
    conds = []
    for name, choices, label in (("channel", CHANNELS, "渠道"), ("kind", KINDS, "诉求类型")):
        if value := args.get(name):
            if value not in choices:
                raise ApiError(
                    400, "invalid_input", f"未知的{label}：{value[:20]}", {name: "可选：" + "、".join(choices)}
                )
            conds.append(getattr(Case, name) == value)
    for name, model, label in (("category", Category, "分类"), ("area", Department, "区域")):
        if value := args.get(name):
            row = db.session.get(model, int(value)) if value.isdigit() and len(value) < 10 else None
            if row is None:
                raise ApiError(400, "invalid_input", f"未知的{label}：{value[:20]}", {name: f"{label}编号不存在"})
            column = Case.category_id if model is Category else Case.district_id
            conds.append(column.in_(sa.select(model.id).where(model.path.startswith(row.path))))
    day = _day("day", "日期", None) if args.get("day") else None
    if day is not None and not period.first <= day <= period.last:
        raise ApiError(400, "invalid_input", "日期不在统计区间内", {"day": "不在 from–to 之内"})
    if args.get("hour"):
        hour = int_arg("hour", "小时", 0, 23)
        days = [day] if day else period.each_day()
        windows = [hour_bounds(d, now.zone)[hour] for d in days]
        conds.append(sa.or_(*(sa.and_(Case.created_at >= s, Case.created_at < e) for s, e in windows)))
    elif day is not None:
        s, e = day_bounds(day, now.zone)
        conds.append(sa.and_(Case.created_at >= s, Case.created_at < e))
    return conds

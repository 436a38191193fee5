"""Dashboard pages under /dashboards. Every page shows figures the viewer may see: a unit's user sees its subtree
(its own unit page, its cases' volumes); centre staff see the city."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from hotline.auth.permissions import authenticate_page, department_scope, requires, visible_cases_filter
from hotline.dashboards import texts
from hotline.db import refcache
from hotline.extensions import db
from hotline.models import Case
from hotline.stats import figures, queries, summaries
from hotline.stats.periods import Period, day_bounds
from hotline.web import filters

dashboards_bp = Blueprint("dashboards", __name__, url_prefix="/dashboards")
dashboards_bp.before_request(authenticate_page)
filters.init_blueprint(dashboards_bp)

RANGES = {"today": "今日", "week": "本周", "month": "本月"}


def _clock() -> figures.Clock:
    return figures.Clock(ZoneInfo(current_app.config["HOTLINE"].timezone), datetime.now(UTC))


def period_of(name: str, today: date) -> Period:
    if name == "week":
        return Period(today - timedelta(days=today.weekday()), today)
    if name == "month":
        return Period(today.replace(day=1), today)
    return Period(today, today)


def _range_arg(default: str = "today") -> str:
    value = request.args.get("range", default)
    return value if value in RANGES else default


def _month_arg(today: date) -> Period:
    """?month=YYYY-MM (default this month; a past month whole, this month up to today)."""
    raw = request.args.get("month", "")
    try:
        first = date.fromisoformat(raw + "-01") if raw else today.replace(day=1)
    except ValueError:
        first = today.replace(day=1)
    if first.year < 2000:  # the previous month must stay representable; nothing to show before 2000
        first = today.replace(day=1)
    first = min(first, today.replace(day=1))
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return Period(first, min(last, today))


def _units() -> list[int] | None:
    scope = department_scope(current_user)
    return None if scope is None else list(queries.units_in_scope(scope))


@dashboards_bp.get("/")
@requires("stats.view")
def overview():
    clock, units = _clock(), _units()
    chosen = _range_arg()
    period = period_of(chosen, clock.today)
    data = summaries.overview(period, clock, units)
    cards = {name: summaries.overview(period_of(name, clock.today), clock, units) for name in RANGES}
    return render_template(
        "dashboards/overview.html",
        ranges=RANGES,
        chosen=chosen,
        cards=cards,
        data=data,
        alt=texts.overview_alt(data),
    )


@dashboards_bp.get("/ranking")
@requires("stats.view")
def ranking():
    clock = _clock()
    period = _month_arg(clock.today)
    scope = department_scope(current_user)
    data = summaries.ranking(period, clock, scope, current_app.config["HOTLINE"])
    previous = summaries.ranking(period.previous(), clock, scope, current_app.config["HOTLINE"])
    before = {r["department_code"]: r for r in previous["departments"]}
    return render_template(
        "dashboards/ranking.html",
        data=data,
        before=before,
        months=_months(clock.today),
        chosen=period.first.strftime("%Y-%m"),
        alt=texts.ranking_alt(data),
    )


def _months(today: date, n: int = 12) -> list[str]:
    out, first = [], today.replace(day=1)
    for _ in range(n):
        out.append(first.strftime("%Y-%m"))
        first = (first - timedelta(days=1)).replace(day=1)
    return out


@dashboards_bp.get("/units/<code>")
@requires("stats.view")
def unit_page(code: str):
    unit = refcache.active_unit(code) if len(code) <= 32 else None
    scope = department_scope(current_user)
    if unit is None or (scope is not None and not unit.path.startswith(scope.path)):
        abort(404)  # a unit's user sees its own subtree only, and not whether another unit exists
    clock = _clock()
    period = _month_arg(clock.today)
    settings = current_app.config["HOTLINE"]
    data = summaries.ranking(period, clock, unit, settings)  # the unit and its sub-units
    rows = data["departments"]
    own = next((r for r in rows if r["department_code"] == unit.code), None)
    subtree = list(queries.units_in_scope(unit))
    volumes = summaries.overview(period, clock, subtree)
    hot = summaries.hot(period, clock, subtree, "category", 2, 10)
    return render_template(
        "dashboards/unit.html",
        unit=unit,
        own=own,
        rows=rows,
        data=data,
        volumes=volumes,
        hot=hot,
        months=_months(clock.today),
        chosen=period.first.strftime("%Y-%m"),
        alt=texts.overview_alt(volumes),
        hot_alt=texts.hot_alt(hot),
    )


@dashboards_bp.get("/hot")
@requires("stats.view")
def hot():
    clock, units = _clock(), _units()
    chosen = _range_arg("month")
    by = request.args.get("by", "category")
    by = by if by in summaries.BY else "category"
    level = request.args.get("level", "1")
    level = int(level) if level in ("1", "2", "3") else 1
    period = period_of(chosen, clock.today)
    data = summaries.hot(period, clock, units, by, level, 15)
    return render_template(
        "dashboards/hot.html",
        ranges=RANGES,
        chosen=chosen,
        by=by,
        level=level,
        data=data,
        alt=texts.hot_alt(data),
    )


@dashboards_bp.get("/density")
@requires("stats.view")
def density():
    clock, units = _clock(), _units()
    chosen = _range_arg("month")
    period = period_of(chosen, clock.today)
    districts = summaries.hot(period, clock, units, "area", 1, 100)
    streets = summaries.hot(period, clock, units, "area", 2, 100)
    return render_template(
        "dashboards/density.html",
        ranges=RANGES,
        chosen=chosen,
        districts=districts,
        streets=streets,
        points=_points(period, clock),
        alt=texts.hot_alt(districts),
    )


MAX_POINTS = 2000


def _points(period: Period, clock: figures.Clock) -> list[dict]:
    """The located cases of the period the viewer may see (newest first, at most MAX_POINTS) for the map."""
    start, end = day_bounds(period.first, clock.zone)[0], day_bounds(period.last, clock.zone)[1]
    rows = db.session.execute(
        sa.select(Case.number, Case.title, Case.urgency, Case.lat, Case.lng)
        .where(
            visible_cases_filter(current_user),
            Case.created_at >= start,
            Case.created_at < end,
            Case.lat.is_not(None),
            Case.lng.is_not(None),
        )
        .order_by(Case.id.desc())
        .limit(MAX_POINTS)
    )
    return [
        {
            "lat": r.lat,
            "lng": r.lng,
            "label": f"{r.number} {r.title}",
            "url": f"/cases/{r.number}",
            "urgency": r.urgency,
        }
        for r in rows
    ]


@dashboards_bp.get("/screen")
@requires("stats.view")
def screen():
    clock, units = _clock(), _units()
    today = Period(clock.today, clock.today)
    return render_template(
        "dashboards/screen.html",
        data=summaries.overview(today, clock, units),
        hot=summaries.hot(today, clock, units, "category", 1, 8),
        areas=summaries.hot(today, clock, units, "area", 1, 10),
        today=clock.today.isoformat(),
    )


@dashboards_bp.get("/cases")
@requires("stats.view")
def cases():
    """The cases behind a number: the page asks GET /api/v1/stats/cases with its own query string."""
    return render_template("dashboards/cases.html", query=request.query_string.decode("ascii", "replace"))

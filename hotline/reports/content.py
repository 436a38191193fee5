"""The figures of a month's report, set-based (one grouped statement per source), for the whole city."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from hotline.exports.filters import instants
from hotline.extensions import db
from hotline.models import Case, CasePublication, Department, Rating, Rectification, SlaCard
from hotline.models.cases import CHANNELS
from hotline.open311.redaction import redact
from hotline.ratings.rectification import OUTCOMES
from hotline.stats import figures, metrics, summaries
from hotline.stats.periods import Period


def month_bounds(period: str) -> tuple[date, date]:
    first = date.fromisoformat(period + "-01")
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def previous_period(period: str) -> str:
    first, _ = month_bounds(period)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def _volumes(start, end) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Case.channel, sa.func.count())
        .where(Case.created_at >= start, Case.created_at < end)
        .group_by(Case.channel)
    )
    return dict(rows.all())


def _pct(value):
    return "—" if value is None else f"{value * 100:.1f}%"


def build(period: str, tz: str, weights: tuple[dict, dict]) -> dict:
    first, last = month_bounds(period)
    start, end = instants(first, last, tz)
    p_first, p_last = month_bounds(previous_period(period))
    p_start, p_end = instants(p_first, p_last, tz)
    volumes, before = _volumes(start, end), _volumes(p_start, p_end)
    clock = figures.Clock(ZoneInfo(tz), datetime.now(UTC))
    period_ = Period(first, last)
    ranking = summaries.ranking(period_, clock, None, current_app.config["HOTLINE"])["departments"]
    city = metrics.UnitCounts()
    for u in ranking:
        c = u["counts"]
        for name in (
            "dispatched",
            "responded",
            "replied_on_time",
            "returns",
            "red_cards",
            "yellow_cards",
            "resolved_yes",
            "resolved_answered",
        ):
            setattr(city, name, getattr(city, name) + c[name])
        for score, n in c["scores"].items():
            city.scores[int(score)] = city.scores.get(int(score), 0) + n
        u["text"] = {
            k: _pct(u[k])
            for k in ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate", "composite")
        }
    city_rates = metrics.rates(city, *weights)
    red = db.session.execute(
        sa.select(Department.name, sa.func.count())
        .select_from(SlaCard)
        .join(Department, Department.id == SlaCard.department_id)
        .where(SlaCard.level == "red", SlaCard.created_at >= start, SlaCard.created_at < end)
        .group_by(Department.name)
        .order_by(sa.func.count().desc())
    ).all()
    rect = db.session.execute(
        sa.select(Rectification.outcome, Rectification.result, sa.func.count())
        .where(Rectification.created_at >= start, Rectification.created_at < end)
        .group_by(Rectification.outcome, Rectification.result)
    ).all()
    rectification = {"total": sum(n for _, _, n in rect), "rows": []}
    for outcome, result, n in rect:
        label = OUTCOMES.get(outcome, "待核实") if outcome else "待核实"
        done = {"closed": "已办结", "reopened": "已重办"}.get(result, "进行中")
        rectification["rows"].append({"outcome": label, "result": done, "count": n})
    poor = db.session.scalar(
        sa.select(sa.func.count()).where(Rating.created_at >= start, Rating.created_at < end, Rating.score <= 2)
    )
    return {
        "period": period,
        "first": first,
        "last": last,
        "total": sum(volumes.values()),
        "previous_total": sum(before.values()),
        "channels": [
            (CHANNELS.get(k, k), n, before.get(k, 0)) for k, n in sorted(volumes.items(), key=lambda x: -x[1])
        ],
        "ranking": ranking,
        "city": {k: _pct(v) for k, v in city_rates.items()},
        "city_counts": city,
        "hot_categories": summaries.hot(period_, clock, None, "category", 2, 10)["items"],
        "hot_areas": summaries.hot(period_, clock, None, "area", 1, 10)["items"],
        "typical": typical_cases(start, end),
        "red_cards": red,
        "red_total": sum(n for _, n in red),
        "rectification": rectification,
        "poor_ratings": poor or 0,
    }


def typical_cases(start, end, limit: int = 6) -> list[dict]:
    """Cases a supervisor published (public, not confidential) registered in the month; the text redacted."""
    rows = db.session.execute(
        sa.select(Case.number, Case.title, Case.content, Department.name, Case.status)
        .join(CasePublication, sa.and_(CasePublication.case_id == Case.id, CasePublication.public.is_(True)))
        .outerjoin(Department, Department.id == Case.lead_department_id)
        .where(Case.created_at >= start, Case.created_at < end, Case.confidential.is_(False))
        .order_by(Case.id.desc())
        .limit(limit)
    )
    return [
        {
            "number": r.number,
            "title": redact(r.title) or "",
            "content": (redact(r.content) or "")[:200],
            "unit": r.name or "—",
            "status": r.status,
        }
        for r in rows
    ]

"""统一考核: GET /api/v1/stats/departments?from=DATE&to=DATE — the assessment rates of every unit, ranked."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, jsonify, request
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import department_scope, requires
from hotline.errors import ApiError
from hotline.stats import metrics, queries

log = logging.getLogger(__name__)
MAX_DAYS = 366


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


def _weights(settings) -> tuple[dict, dict]:
    try:
        scores = metrics.parse_weights(settings.stats_score_weights, {1, 2, 3, 4, 5}, int)
        mix = metrics.parse_weights(settings.stats_composite, set(metrics.DEFAULT_COMPOSITE))
        return scores, mix
    except ValueError:
        log.warning("HOTLINE_STATS_* weights unreadable; using the defaults of docs/domain.md")
        return dict(metrics.DEFAULT_SCORE_WEIGHTS), dict(metrics.DEFAULT_COMPOSITE)


@api_bp.get("/stats/departments")
@requires("stats.view")
def department_stats():
    settings = current_app.config["HOTLINE"]
    zone = ZoneInfo(settings.timezone)
    today = datetime.now(zone).date()
    first = _day("from", "开始日期", today.replace(day=1))
    last = _day("to", "结束日期", today)
    if first > last:
        raise ApiError(400, "invalid_input", "开始日期不能晚于结束日期", {"from": "晚于结束日期"})
    if (last - first).days >= MAX_DAYS:
        raise ApiError(400, "invalid_input", f"统计区间最长 {MAX_DAYS} 天", {"to": f"区间超过 {MAX_DAYS} 天"})
    start = datetime.combine(first, time.min, zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, zone).astimezone(UTC)
    scope = department_scope(current_user)
    units = queries.units_in_scope(scope)
    counts = queries.unit_counts(start, end, list(units) if scope is not None else None)
    scores, mix = _weights(settings)
    rows = []
    for unit_id, c in counts.items():
        unit = units.get(unit_id)
        if unit is None:
            continue
        rows.append(
            {
                "department_code": unit.code,
                "department_name": unit.name,
                "kind": unit.kind,
                **metrics.rates(c, scores, mix),
                "counts": {
                    "dispatched": c.dispatched,
                    "responded": c.responded,
                    "replied_on_time": c.replied_on_time,
                    "ratings": c.ratings,
                    "scores": {str(k): v for k, v in sorted(c.scores.items())},
                    "resolved_yes": c.resolved_yes,
                    "resolved_answered": c.resolved_answered,
                    "returns": c.returns,
                    "improper_returns": c.improper_returns,
                    "extensions": c.extensions,
                    "reopened": c.reopened,
                    "yellow_cards": c.yellow_cards,
                    "red_cards": c.red_cards,
                },
            }
        )
    return jsonify(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "timezone": settings.timezone,
            "weights": {"scores": {str(k): v for k, v in scores.items()}, "composite": mix},
            "departments": metrics.rank(rows),
        }
    )

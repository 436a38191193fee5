"""统一考核: GET /api/v1/stats/departments?from=DATE&to=DATE — the assessment rates of every unit, ranked (past days
from the daily rollup, today live: hotline/stats/figures.py; the answer built by hotline/stats/summaries.py)."""

from __future__ import annotations

from flask import current_app, jsonify
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.api.figures import clock, period_arg
from hotline.auth.permissions import requires, statistics_scope
from hotline.stats import summaries


@api_bp.get("/stats/departments")
@requires("stats.view")
def department_stats():
    now = clock()
    period = period_arg(now)
    scope = statistics_scope(current_user)  # a unit, a sub-centre's district (分中心) or the city
    return jsonify(summaries.ranking(period, now, scope, current_app.config["HOTLINE"]))

"""GET /healthz: 200 when the database and Redis answer."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from hotline.auth.permissions import authenticate_api, public
from hotline.extensions import connect_redis, db

health_bp = Blueprint("health", __name__)
health_bp.before_request(authenticate_api)  # /healthz is @public


@health_bp.get("/healthz")
@public
def healthz():
    checks = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, never raise
        checks["database"] = "error"
        current_app.logger.warning("healthz: database check failed: %s", exc)
    try:
        connect_redis(current_app.config["HOTLINE"]).ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = "error"
        current_app.logger.warning("healthz: redis check failed: %s", exc)
    ok = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if ok else "error", "checks": checks}), 200 if ok else 503

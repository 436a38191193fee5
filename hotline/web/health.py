"""GET /healthz: 200 when the database and Redis answer; 503 (with Retry-After) naming the one that does not.

Body: ``{"status": "ok"|"degraded"|"error", "database": "ok"|"unavailable", "redis": "ok"|"unavailable",
"checks": {"database": "ok"|"error", "redis": "ok"|"error"}}``. ``degraded``: the database answers and Redis
does not — intake, look-ups, login and rating still work (docs/operations.md, "Redis down"); routing, live
events and messages wait for Redis. ``error``: the database does not answer. ``checks`` is the original form.
``?required=database``: 200 as long as the database answers (for a load balancer: a node whose Redis is down still
takes cases).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request

from hotline.auth.permissions import authenticate_api, public
from hotline.errors import RETRY_AFTER
from hotline.extensions import connect_redis, db

health_bp = Blueprint("health", __name__)
_CHECKS = ("database", "redis")
health_bp.before_request(authenticate_api)  # /healthz is @public


def _database_ok() -> bool:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return True
    except Exception as exc:  # report, never raise
        current_app.logger.warning("healthz: database check failed: %s", exc)
        try:
            db.session.rollback()
        except Exception:  # the connection is gone: nothing to roll back
            current_app.logger.debug("healthz: rollback after a failed check failed", exc_info=True)
        return False


def _redis_ok() -> bool:
    try:
        connect_redis(current_app.config["HOTLINE"]).ping()
        return True
    except Exception as exc:
        current_app.logger.warning("healthz: redis check failed: %s", exc)
        return False


@health_bp.get("/healthz")
@public
def healthz():
    database, redis = _database_ok(), _redis_ok()
    status = "ok" if database and redis else "degraded" if database else "error"
    body = {
        "status": status,
        "database": "ok" if database else "unavailable",
        "redis": "ok" if redis else "unavailable",
        "checks": {"database": "ok" if database else "error", "redis": "ok" if redis else "error"},
    }
    # ?required=database: 200 while the database answers (a load balancer keeps a node whose Redis is down in
    # service: it still takes cases); default: both must answer
    required = {n.strip() for n in request.args.get("required", "database,redis").split(",")} & set(_CHECKS)
    answering = {"database": database, "redis": redis}
    if all(answering[name] for name in required or _CHECKS):
        return jsonify(body), 200
    return jsonify(body), 503, {"Retry-After": str(RETRY_AFTER)}

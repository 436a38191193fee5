"""Risk alerts (预警): GET /api/v1/alerts (newest first, ?status=&kind=&page=), GET /api/v1/alerts/ID (with its
cases), POST /api/v1/alerts/ID/acknowledge."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app, jsonify, request
from flask_login import current_user

from hotline.alerts.raising import alert_payload
from hotline.api.blueprint import api_bp
from hotline.auth.permissions import requires
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models import Alert, AlertCase, Case
from hotline.models.alerts import ALERT_KINDS, ALERT_STATUSES
from hotline.web.validation import Int, parse


def alert_dict(alert: Alert) -> dict:
    return {
        **alert_payload(alert),
        "kind_label": ALERT_KINDS.get(alert.kind, alert.kind),
        "status": alert.status,
        "status_label": ALERT_STATUSES.get(alert.status, alert.status),
        "detail": alert.detail,
        "window_start": alert.window_start.isoformat(),
        "window_end": alert.window_end.isoformat(),
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
    }


def _choice(name: str, allowed: dict, label: str) -> str | None:
    value = request.args.get(name, "").strip()
    if value and value not in allowed:
        raise ApiError(400, "invalid_input", f"未知的{label}：{value[:20]}", {name: "可选：" + "、".join(allowed)})
    return value or None


@api_bp.get("/alerts")
@requires("alert.view")
def list_alerts():
    query = sa.select(Alert)
    if status := _choice("status", ALERT_STATUSES, "状态"):
        query = query.where(Alert.status == status)
    if kind := _choice("kind", ALERT_KINDS, "预警类型"):
        query = query.where(Alert.kind == kind)
    raw = request.args.get("page", "").strip()
    value = int(raw) if re.fullmatch(r"[+-]?[0-9]{1,9}", raw) else (raw or None)
    page = parse({"page": Int("页码", min_value=1, max_value=100000, default=1)}, {"page": value})["page"]
    per_page = current_app.config["HOTLINE"].page_size
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(Alert.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return jsonify({"items": [alert_dict(a) for a in rows], "page": page, "per_page": per_page, "total": total})


def _alert(alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        raise ApiError(404, "not_found", f"预警 {alert_id} 不存在")
    return alert


@api_bp.get("/alerts/<int:alert_id>")
@requires("alert.view")
def get_alert(alert_id: int):
    alert = _alert(alert_id)
    numbers = db.session.scalars(
        sa.select(Case.number).join(AlertCase, AlertCase.case_id == Case.id).where(AlertCase.alert_id == alert.id)
    )
    return jsonify({**alert_dict(alert), "cases": sorted(numbers)})


@api_bp.post("/alerts/<int:alert_id>/acknowledge")
@requires("alert.view")
def acknowledge_alert(alert_id: int):
    alert = _alert(alert_id)
    if alert.status == "open":
        alert.status, alert.acknowledged_by_id, alert.acknowledged_at = (
            "acknowledged",
            current_user.id,
            datetime.now(UTC),
        )
        db.session.commit()
    return jsonify(alert_dict(alert))

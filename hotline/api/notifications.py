"""GET /api/v1/notifications: the current user's in-app notices (newest first); POST /api/v1/notifications/read:
mark some (``{"ids": [..]}``) or all (``{"all": true}``) read."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify, request
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import requires
from hotline.desks import notices
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.web.validation import json_body


@api_bp.get("/notifications")
@requires("notification.view")
def list_notifications():
    return jsonify({"items": notices.items(current_user, request.args.get("unread") in ("1", "true"))})


@api_bp.post("/notifications/read")
@requires("notification.view")
def read_notifications():
    body = json_body()
    if body.get("all") is True:
        ids = None
    elif "ids" in body:
        ids = body["ids"]
    else:
        raise ApiError(400, "invalid_input", "请提供 ids（通知编号数组）或 all: true", {"ids": "缺少"})
    marked = notices.mark_read(current_user, ids, datetime.now(UTC))
    db.session.commit()
    return jsonify({"marked": marked, "unread": notices.unread_count(current_user)})

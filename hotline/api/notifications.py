"""GET /api/v1/notifications: the current user's in-app notices (newest first)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import requires
from hotline.extensions import db
from hotline.models import Case, Notification


@api_bp.get("/notifications")
@requires("notification.view")
def list_notifications():
    query = (
        sa.select(Notification, Case.number)
        .outerjoin(Case, Case.id == Notification.case_id)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.id.desc())
        .limit(50)
    )
    if request.args.get("unread") in ("1", "true"):
        query = query.where(Notification.read_at.is_(None))
    items = [
        {
            "id": n.id,
            "text": n.text,
            "case_number": number,
            "created_at": n.created_at.isoformat(),
            "read": n.read_at is not None,
        }
        for n, number in db.session.execute(query)
    ]
    return jsonify({"items": items})

"""GET /api/v1/console/changes?since=CURSOR — what a console missed while its socket was down."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import requires, visible_cases_filter
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models import Case, CaseEvent, Department

LIMIT = 500


@api_bp.get("/console/changes")
@requires("case.view")
def console_changes():
    raw = request.args.get("since", "0")
    if not raw.isdigit():
        raise ApiError(400, "invalid_input", "since 必须是非负整数（上次收到的 cursor）", {"since": "必须是非负整数"})
    since = int(raw)
    rows = db.session.execute(
        sa.select(CaseEvent.id, CaseEvent.action, Case.number, Case.status, Case.version, Department.code)
        .join(Case, Case.id == CaseEvent.case_id)
        .outerjoin(Department, Department.id == Case.lead_department_id)
        .where(CaseEvent.id > since, visible_cases_filter(current_user))
        .order_by(CaseEvent.id)
        .limit(LIMIT)
    ).all()
    items = [
        {"cursor": r[0], "action": r[1], "number": r[2], "status": r[3], "version": r[4], "department_code": r[5]}
        for r in rows
    ]
    return jsonify({"items": items, "cursor": items[-1]["cursor"] if items else since, "more": len(items) == LIMIT})

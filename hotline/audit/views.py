"""The audit trail for the auditor (审计员) and the admin: the page ``/admin/audit`` with filters and paging, the
CSV export ``/admin/audit.csv``, and ``GET /api/v1/audit`` (JSON, or CSV with ``format=csv``). Read only: the app
has no path that changes or deletes an audit row."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_login import current_user

from hotline.audit import query, record
from hotline.audit.filters import from_args
from hotline.auth.permissions import authenticate_api, authenticate_page, requires
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.web.validation import query_int, whole_number

audit_bp = Blueprint("audit", __name__, url_prefix="/admin")
audit_bp.before_request(authenticate_page)
audit_api_bp = Blueprint("audit_api", __name__)
audit_api_bp.before_request(authenticate_api)

PAGE_SIZE = 50
FILTER_ARGS = ("kind", "actor", "action", "target", "ip", "from", "to")


def _tz() -> str:
    return current_app.config["HOTLINE"].timezone


def _csv(filters) -> Response:
    body = query.export_csv(filters, _tz())
    # exporting the trail is itself audited (the export's filters as detail)
    record(current_user, "audit.export", "audit", "", detail=_describe(filters))
    db.session.commit()
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=audit-{stamp}.csv", "Cache-Control": "no-store"},
    )


def _describe(filters) -> str:
    parts = [f"{k}={v}" for k, v in vars(filters).items() if v]
    return "导出审计日志 " + (" ".join(parts) if parts else "（全部）")


@audit_bp.get("/audit")
@requires("audit.view")
def page():
    filters, problems = from_args(request.args)
    page_no = whole_number(request.args.get("page", "1"), 1, 100_000) or 1
    rows, total = query.search(filters, _tz(), limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE)
    args = {k: v for k, v in request.args.items() if k in FILTER_ARGS}
    return render_template(
        "audit/index.html",
        rows=rows,
        total=total,
        page=page_no,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        args=args,
        problems=problems,
        kinds=query.KINDS,
        actions={**{f"login.{k}": v for k, v in query.LOGIN_LABELS.items()}, **query.ACTION_LABELS},
    ), (400 if problems else 200)


@audit_bp.get("/audit.csv")
@requires("audit.view")
def export():
    filters, problems = from_args(request.args)
    if problems:
        return render_template("error.html", status=400, message="；".join(problems.values())), 400
    return _csv(filters)


@audit_bp.get("/audit/<kind>/<int:event_id>")
@requires("audit.view")
def detail(kind: str, event_id: int):
    changes = query.changes(kind, event_id)
    if changes is None:
        return render_template("error.html", status=404, message="没有这条审计记录"), 404
    shown = {
        k: json.dumps(v, ensure_ascii=False, indent=2, sort_keys=True) if v is not None else "（无）"
        for k, v in changes.items()
    }
    return render_template("audit/detail.html", kind=kind, event_id=event_id, changes=shown)


@audit_api_bp.get("/audit")
@requires("audit.view")
def list_audit_events():
    filters, problems = from_args(request.args)
    if problems:
        raise ApiError(400, "invalid_input", "提交的内容有误：" + next(iter(problems.values())), problems)
    if request.args.get("format") == "csv":
        return _csv(filters)
    limit = query_int("limit", 100, 1, 1000)
    offset = query_int("offset", 0, 0, 10_000_000)
    rows, total = query.search(filters, _tz(), limit=limit, offset=offset)
    if request.args.get("changes") == "1":
        for row in rows:
            row["changes"] = query.changes(row["kind"], row["id"])
    return jsonify({"total": total, "limit": limit, "offset": offset, "events": rows})

"""Exports: POST /api/v1/exports {what, filters, format} -> {id}; GET /api/v1/exports/ID -> {status, progress, url};
GET /api/v1/exports/ID/file (the requester only); GET /api/v1/exports (the user's recent exports)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify, send_file
from flask_login import current_user

from hotline import audit
from hotline.api.blueprint import api_bp
from hotline.auth.permissions import requires
from hotline.errors import ApiError
from hotline.exports import service
from hotline.extensions import db
from hotline.web.validation import json_body


def _mine(export_id: int):
    export = service.owned(current_user, export_id)
    if export is None:
        raise ApiError(404, "not_found", f"导出任务 {export_id} 不存在")
    return export


@api_bp.post("/exports")
@requires("export.create")
def create_export():
    body = json_body()
    what, fmt = body.get("what"), body.get("format", "xlsx")
    if not isinstance(what, str) or not isinstance(fmt, str):
        raise ApiError(400, "invalid_input", "what 和 format 必须是文字", {"what": "必填"})
    export = service.request_export(current_user, what, fmt, body.get("filters") or {}, datetime.now(UTC))
    db.session.commit()
    response = jsonify({"id": export.id, "status": export.status, "url": f"/api/v1/exports/{export.id}"})
    response.status_code = 202
    return response


@api_bp.get("/exports")
@requires("export.create")
def list_exports():
    return jsonify({"items": [service.as_dict(e) for e in service.recent(current_user)]})


@api_bp.get("/exports/<int:export_id>")
@requires("export.create")
def get_export(export_id: int):
    return jsonify(service.as_dict(_mine(export_id)))


@api_bp.get("/exports/<int:export_id>/file")
@requires("export.create")
def download_export(export_id: int):
    export = _mine(export_id)
    path = service.file_path(export)
    if export.status != "done" or not path.exists():
        raise ApiError(409, "not_ready", "导出文件尚未生成或已过期")
    audit.record(current_user, "export.download", "export", export.id, detail=export.file_name)
    db.session.commit()
    mimetype = (
        "text/csv" if export.format == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return send_file(path, mimetype=mimetype, as_attachment=True, download_name=export.file_name)

"""/api/v1 routes of evidence: a case's files (upload, list), one file (streamed, authorised), sharing a
confidential reporter's file with the departments. docs/api.md, section "evidence"."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask_login import current_user

from hotline.auth.permissions import access_case, authenticate_api, requires
from hotline.cases.errors import InvalidInput
from hotline.cases.timeline import record
from hotline.errors import error_response
from hotline.evidence import recordings
from hotline.evidence.access import access_attachment, case_files
from hotline.evidence.serialize import attachment_to_dict
from hotline.evidence.service import add_file, limits
from hotline.evidence.storage import storage
from hotline.extensions import db

evidence_api_bp = Blueprint("evidence_api", __name__)
evidence_api_bp.before_request(authenticate_api)

# endpoints that take files → how many files at most: their body may be that many of the largest file (plus a form)
UPLOAD_ENDPOINTS = {"evidence_api.upload": 1, "portal.submit": 9}
FORM_SLACK = 256 * 1024
INLINE = ("image/", "video/", "audio/", "application/pdf")


def init_app(app: Flask) -> None:
    """Raise the request size limit (MAX_CONTENT_LENGTH, 1 MB) for upload endpoints only, before anything reads
    the form (the CSRF check does): Werkzeug spools file parts over 500 KB to temporary files, never memory."""

    def _upload_limit():
        files = UPLOAD_ENDPOINTS.get(request.endpoint or "")
        if files:
            hard, _ = limits(current_app.config["HOTLINE"])
            request.max_content_length = hard * files + FORM_SLACK

    app.before_request_funcs.setdefault(None, []).insert(0, _upload_limit)


@evidence_api_bp.errorhandler(413)
def _too_large(_err):
    hard, _ = limits(current_app.config["HOTLINE"])
    return error_response(413, "file_too_large", f"文件超过 {hard // (1024 * 1024)} MB 的上限", {"file": "文件过大"})


def _flag(name: str) -> bool:
    return (request.form.get(name) or "").strip().lower() in {"1", "true", "yes", "on"}


@evidence_api_bp.post("/cases/<number>/attachments")
@requires("case.attach")
def upload(number: str):
    case = access_case(current_user, number, "case.attach")
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("invalid_input", "缺少文件：请以 multipart/form-data 的 file 字段上传", {"file": "缺少文件"})
    kind = (request.form.get("kind") or "evidence").strip()
    added = add_file(
        case,
        upload.stream,
        upload.filename,
        kind=kind,
        source="staff",
        actor=current_user,
        now=datetime.now(UTC),
        gps_consent=_flag("use_photo_location"),
    )
    body = attachment_to_dict(added.attachment)
    body["duplicate"] = not added.created
    db.session.commit()
    return jsonify(body), 201 if added.created else 200


@evidence_api_bp.get("/cases/<number>/attachments")
@requires("case.view")
def listing(number: str):
    case = access_case(current_user, number, "case.view")
    return jsonify({"items": [attachment_to_dict(a) for a in case_files(case, current_user)]})


def _range(size: int | None) -> tuple[int, int] | None:
    """(start, end inclusive) of a single ``Range: bytes=a-b`` within ``size``; None for no or another range."""
    raw = request.headers.get("Range", "").replace(" ", "")
    if not raw.startswith("bytes=") or size is None or "," in raw:
        return None
    first, _, last = raw[6:].partition("-")
    try:
        if first == "":  # the last N bytes
            start, end = max(0, size - int(last)), size - 1
        else:
            start, end = int(first), min(size - 1, int(last)) if last else size - 1
    except ValueError:
        return None
    return (start, end) if 0 <= start <= end < size else None


def stream_file(key: str, content_type: str, name: str, size: int | None, checksum: str | None):
    """The stored file in 64 KB chunks (a single byte range when asked: video seeking), never whole in memory."""
    span = _range(size)
    try:
        chunks = storage().open(key, span[0], span[1] - span[0] + 1) if span else storage().open(key)
    except FileNotFoundError:
        raise InvalidInput("file_missing", "文件已不在存储中，请联系管理员", {}) from None
    disposition = "inline" if content_type.startswith(INLINE) else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=300",
    }
    if size is not None:
        headers["Accept-Ranges"] = "bytes"
        headers["Content-Length"] = str(span[1] - span[0] + 1 if span else size)
    if span:
        headers["Content-Range"] = f"bytes {span[0]}-{span[1]}/{size}"
    if checksum:
        headers["ETag"] = f'"{checksum}"'
    return Response(
        chunks, status=206 if span else 200, mimetype=content_type, headers=headers, direct_passthrough=True
    )


@evidence_api_bp.get("/attachments/<int:attachment_id>")
@requires("case.view")
def download(attachment_id: int):
    att, _case = access_attachment(current_user, attachment_id)
    if request.if_none_match and att.checksum in request.if_none_match:
        return Response(status=304)
    return stream_file(att.storage_key, att.content_type, att.name, att.size, att.checksum)


@evidence_api_bp.get("/attachments/<int:attachment_id>/thumbnail")
@requires("case.view")
def thumbnail(attachment_id: int):
    att, _case = access_attachment(current_user, attachment_id)
    if att.thumb_status != "done" or not att.thumb_key:
        raise InvalidInput("thumbnail_not_ready", "缩略图尚未生成", {"thumbnail_status": att.thumb_status})
    return stream_file(att.thumb_key, "image/jpeg", "thumb-" + att.name.rsplit(".", 1)[0] + ".jpg", None, None)


@evidence_api_bp.post("/attachments/<int:attachment_id>/share")
@requires("citizen.view")
def share(attachment_id: int):
    """The centre shares a confidential reporter's file with the departments handling the case."""
    att, case = access_attachment(current_user, attachment_id, "citizen.view")
    if not att.shared:
        att.shared = True
        record(case, "attachment_shared", current_user, None, None, note=att.name, data={"attachment_id": att.id})
    body = attachment_to_dict(att)
    db.session.commit()
    return jsonify(body)


@evidence_api_bp.get("/cases/<number>/recording")
@requires("citizen.view")
def recording(number: str):
    """The case's call recording, streamed from the call platform (Range passed through); each play audited."""
    case = access_case(current_user, number, "citizen.view")
    return recordings.stream(case, current_user)

"""The citizen portal's files and map pin (hotline/portal/views.py calls these two): several photos or one video
per submission, checked before the case is registered, kept as the case's evidence after."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, request
from werkzeug.datastructures import FileStorage

from hotline.cases.errors import DomainError
from hotline.evidence import geo, media
from hotline.evidence.service import add_file, limits, set_location
from hotline.models import Case

MAX_PHOTOS = 6
FIELD = "evidence"


def _files() -> list[FileStorage]:
    return [f for f in request.files.getlist(FIELD) if f and f.filename][: MAX_PHOTOS + 2]


def _head(upload: FileStorage) -> bytes:
    head = upload.stream.read(8192)
    upload.stream.seek(0)
    return head


def _size(upload: FileStorage) -> int:
    stream = upload.stream
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def check() -> str | None:
    """The reason the submission's files are refused (Chinese, for the form), or None. Reads only their first bytes."""
    files = request.files.getlist(FIELD)
    uploads = [f for f in files if f and f.filename]
    groups = []
    hard, plain = limits(current_app.config["HOTLINE"])
    for upload in uploads:
        try:
            sniffed = media.sniff(_head(upload))
        except DomainError as err:
            return f"“{upload.filename[:40]}”：{err.message}"
        if sniffed.group not in ("image", "video"):
            return f"“{upload.filename[:40]}”不是照片或视频"
        if _size(upload) > (hard if sniffed.group == "video" else plain):
            return f"“{upload.filename[:40]}”超过大小上限（照片 {plain >> 20} MB、视频 {hard >> 20} MB）"
        groups.append(sniffed.group)
    if groups.count("video") > 1 or (groups.count("video") == 1 and len(groups) > 1):
        return "每次只能上传一段视频（视频不能与照片一起上传）"
    if len(groups) > MAX_PHOTOS:
        return f"每次最多上传 {MAX_PHOTOS} 张照片"
    try:
        geo.point_from(request.form)
    except DomainError as err:
        return err.message
    return None


def attach(case: Case, now: datetime) -> int:
    """Keep the checked files as the case's evidence and its map pin; returns how many files were kept."""
    consent = (request.form.get("use_photo_location") or "") in ("1", "on", "true")
    point = geo.point_from(request.form)
    if point is not None:
        set_location(case, point[0], point[1], "portal")
    kept = 0
    for upload in _files():
        add_file(
            case,
            upload.stream,
            upload.filename,
            source="portal",
            now=now,
            gps_consent=consent,
            actor_label="市民（网站）",
        )
        kept += 1
    return kept

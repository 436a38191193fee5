"""Adding a file to a case: limits, type by content, cleaning, checksum, one copy per case, the timeline, the
thumbnail job. Every intake path calls :func:`add_file` (API, case page, portal, WeChat, Open311 fetch)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from hotline.cases.errors import InvalidInput
from hotline.cases.timeline import record
from hotline.db.dialect import insert_ignore
from hotline.evidence import media
from hotline.evidence.storage import storage
from hotline.extensions import db
from hotline.jobs import MAKE_THUMBNAIL, enqueue_on_commit
from hotline.models import Attachment, Case, User
from hotline.models.attachments import ATTACHMENT_KINDS, SOURCES

MB = 1024 * 1024


@dataclass
class Added:
    attachment: Attachment
    created: bool  # False: the same bytes were on the case already (stored once)


def limits(settings) -> tuple[int, int]:
    """(largest file accepted at all, largest non-video file) in bytes."""
    return max(settings.attachment_max_mb, settings.attachment_video_max_mb) * MB, settings.attachment_max_mb * MB


def tmp_folder() -> Path:
    return current_app.config["HOTLINE"].instance / "tmp" / "uploads"


def safe_name(name: str | None, ext: str) -> str:
    """The name shown for a file: its base name without control or path characters, the true extension."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip(". ")[:150]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem or '附件'}.{ext}"


def _case_totals(case_id: int) -> tuple[int, int]:
    count, total = db.session.execute(
        sa.select(sa.func.count(Attachment.id), sa.func.coalesce(sa.func.sum(Attachment.size), 0)).where(
            Attachment.case_id == case_id
        )
    ).one()
    return int(count), int(total)


def set_location(case: Case, lat: float, lng: float, source: str) -> None:
    """Store a WGS-84 location on the case with a Core UPDATE (the case's ``version`` stays put)."""
    values = {"lat": lat, "lng": lng, "location_source": source}
    db.session.execute(sa.update(Case).where(Case.id == case.id).values(**values))
    for key, value in values.items():
        set_committed_value(case, key, value)


def add_file(
    case: Case,
    stream: BinaryIO,
    name: str | None,
    *,
    kind: str = "evidence",
    source: str = "staff",
    actor: User | None = None,
    now: datetime,
    gps_consent: bool = False,
    actor_label: str | None = None,
) -> Added:
    """Receive ``stream`` as a file of ``case``. Raises InvalidInput / FileTooLarge with a Chinese message. The
    caller commits; the thumbnail job is enqueued after the commit."""
    if kind not in ATTACHMENT_KINDS:
        raise InvalidInput("invalid_input", "附件类别不正确", {"kind": "可选：" + "、".join(ATTACHMENT_KINDS)})
    if source not in SOURCES:
        raise ValueError(source)
    settings = current_app.config["HOTLINE"]
    hard_limit, plain_limit = limits(settings)
    folder = tmp_folder()
    incoming = media.spool(stream, folder, hard_limit)
    cleaned = None
    try:
        sniffed = media.sniff(incoming.head)
        if sniffed.group != "video" and incoming.size > plain_limit:
            raise media.FileTooLarge(
                "file_too_large",
                f"{media.GROUP_LABELS[sniffed.group]}不能超过 {settings.attachment_max_mb} MB",
                {"file": "文件过大"},
            )
        path, mime, ext, width, height, gps = incoming.path, sniffed.mime, sniffed.ext, None, None, None
        if sniffed.group == "image":
            cleaned = media.clean_image(incoming.path, sniffed, folder)
            path, mime, ext = cleaned.path, cleaned.mime, cleaned.ext
            width, height, gps = cleaned.width, cleaned.height, cleaned.gps
        size = path.stat().st_size
        checksum = media.sha256_of(path)
        existing = db.session.scalar(
            sa.select(Attachment).where(Attachment.case_id == case.id, Attachment.checksum == checksum)
        )
        if existing is not None:
            return Added(existing, False)
        count, total = _case_totals(case.id)
        if count >= settings.attachment_case_max_files:
            raise InvalidInput(
                "too_many_files", f"每件工单最多 {settings.attachment_case_max_files} 个附件", {"file": "附件数已满"}
            )
        if total + size > settings.attachment_case_max_mb * MB:
            raise media.FileTooLarge(
                "case_files_too_large", f"每件工单的附件合计不能超过 {settings.attachment_case_max_mb} MB", {}
            )
        key = f"cases/{case.id}/{checksum}.{ext}"
        with path.open("rb") as fh:
            storage().put(key, fh, size, mime)
        row_id = db.session.scalar(
            insert_ignore(Attachment.__table__, ["case_id", "checksum"])
            .values(
                case_id=case.id,
                kind=kind,
                source=source,
                name=safe_name(name, ext),
                content_type=mime,
                size=size,
                checksum=checksum,
                storage_key=key,
                width=width,
                height=height,
                thumb_status="pending" if sniffed.group == "image" else "none",
                shared=False,
                uploaded_by_id=actor.id if actor else None,
                department_id=actor.department_id if actor is not None and actor.is_department_user else None,
                created_at=now,
            )
            .returning(Attachment.__table__.c.id)
        )
        if row_id is None:  # the same file, added by a concurrent request a moment ago
            twin = db.session.scalar(
                sa.select(Attachment).where(Attachment.case_id == case.id, Attachment.checksum == checksum)
            )
            return Added(twin, False)
        attachment = db.session.get(Attachment, row_id)
        if gps is not None and gps_consent and case.lat is None:
            set_location(case, gps[0], gps[1], "photo")
        record(
            case,
            "attachment",
            actor,
            None,
            None,
            note=f"{ATTACHMENT_KINDS[kind]}：{attachment.name}",
            data={"attachment_id": row_id, "kind": kind, "source": source},
            actor_label=actor_label,
        )
        if attachment.thumb_status == "pending":
            enqueue_on_commit(MAKE_THUMBNAIL, row_id)
        return Added(attachment, True)
    finally:
        incoming.discard()
        if cleaned is not None:
            cleaned.path.unlink(missing_ok=True)

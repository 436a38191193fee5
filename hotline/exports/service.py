"""Request an export (checked, stored, audited, queued after the commit) and run it (the job's body).

The file is written to ``instance/exports/<id>.<format>`` (a temp name first, renamed when complete) and served to
its requester only (hotline/api/exports.py). Running an export twice is harmless: a finished export is left alone,
an interrupted one is written again from the start."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from hotline import audit
from hotline.auth.permissions import can
from hotline.cases.errors import InvalidInput, NotAllowed
from hotline.exports import filters as export_filters
from hotline.exports import sources
from hotline.exports.writer import write
from hotline.extensions import db
from hotline.jobs import DEFAULT, enqueue_on_commit
from hotline.models import Export, User

log = logging.getLogger(__name__)
RUN_EXPORT = "workers.jobs.exports.run_export"
FORMATS = ("xlsx", "csv")
# what -> (label, capability needed besides export.create)
WHAT = {
    "cases": ("工单", "case.view"),
    "ranking": ("单位排名", "stats.view"),
    "hot": ("热点诉求", "stats.view"),
    "ratings": ("评价", "rating.view"),
    "audit": ("审计日志", "audit.view"),
}


def settings():
    return current_app.config["HOTLINE"]


def folder() -> Path:
    path = Path(settings().instance) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_path(export: Export) -> Path:
    return folder() / f"{export.id}.{export.format}"


def download_name(export: Export) -> str:
    label = WHAT.get(export.what, (export.what,))[0]
    stamp = export.created_at.astimezone(sources.ZoneInfo(settings().timezone)).strftime("%Y%m%d-%H%M")
    return f"{label}导出-{stamp}.{export.format}"


def request_export(user: User, what: str, fmt: str, filters: dict | None, now: datetime) -> Export:
    """Check and store an export for ``user`` and queue its job after the commit (the caller commits)."""
    if what not in WHAT:
        raise InvalidInput("invalid_input", "不支持的导出内容", {"what": "可选：" + "、".join(WHAT)})
    if fmt not in FORMATS:
        raise InvalidInput("invalid_input", "导出格式只能是 xlsx 或 csv", {"format": "可选：xlsx、csv"})
    if not can(user, WHAT[what][1]):
        raise NotAllowed("您没有导出该内容的权限", code="forbidden")
    tz = settings().timezone
    clean = export_filters.check(what, filters or {}, tz, sources.today_in(tz))
    export = Export(
        user_id=user.id,
        what=what,
        format=fmt,
        filters=clean,
        unmasked=can(user, "citizen.unmask") and what in ("cases", "ratings"),
        status="queued",
        rows=0,
        created_at=now,
    )
    db.session.add(export)
    db.session.flush()
    audit.record(
        user,
        "export.create",
        "export",
        export.id,
        after={"what": what, "format": fmt, "filters": clean, "unmasked": export.unmasked},
        detail=f"导出{WHAT[what][0]}（{fmt}）" + ("，含未脱敏个人信息" if export.unmasked else ""),
    )
    enqueue_on_commit(RUN_EXPORT, export.id, queue=DEFAULT)
    return export


def source_of(export: Export, user: User) -> sources.Source:
    tz, f = settings().timezone, export.filters or {}
    if export.what == "cases":
        return sources.cases(user, f, tz, export.unmasked)
    if export.what == "ranking":
        return sources.ranking(user, f, tz, settings())
    if export.what == "hot":
        return sources.hot(user, f, tz)
    if export.what == "ratings":
        return sources.ratings(user, f, tz, export.unmasked)
    return sources.audit(f, tz)


def _progress(export_id: int, rows: int) -> None:
    db.session.execute(sa.update(Export).where(Export.id == export_id).values(rows=rows))
    db.session.commit()


def run(export_id: int, now: datetime | None = None) -> dict:
    """The job's body: write the file, keeping ``rows`` (progress) up to date; commits as it goes."""
    export = db.session.get(Export, export_id)
    if export is None or export.status == "done":
        return {"export": export_id, "status": export.status if export else "missing"}
    user = db.session.get(User, export.user_id)
    export.status, export.started_at, export.rows, export.error = "running", now or datetime.now(UTC), 0, ""
    source = source_of(export, user)
    export.total = source.total
    db.session.commit()
    path = file_path(export)
    tmp = path.with_suffix(f".{os.getpid()}.part")
    try:
        written = write(
            tmp, export.format, source.title, source.headers, source.rows, lambda n: _progress(export_id, n)
        )
        tmp.replace(path)
    except Exception as exc:
        log.exception("export %s failed", export_id)
        db.session.rollback()
        tmp.unlink(missing_ok=True)
        db.session.execute(
            sa.update(Export)
            .where(Export.id == export_id)
            .values(status="failed", error=f"导出失败：{type(exc).__name__}"[:500], finished_at=datetime.now(UTC))
        )
        db.session.commit()
        return {"export": export_id, "status": "failed"}
    export = db.session.get(Export, export_id)
    export.status, export.rows, export.size = "done", written, path.stat().st_size
    export.file_name, export.finished_at = download_name(export), datetime.now(UTC)
    db.session.commit()
    return {"export": export_id, "status": "done", "rows": written}


def owned(user: User, export_id: int) -> Export | None:
    export = db.session.get(Export, export_id)
    return export if export is not None and export.user_id == user.id else None


def as_dict(export: Export) -> dict:
    done = export.status == "done"
    return {
        "id": export.id,
        "what": export.what,
        "what_label": WHAT.get(export.what, (export.what,))[0],
        "format": export.format,
        "filters": export.filters,
        "status": export.status,
        "progress": export.progress,
        "rows": export.rows,
        "total": export.total,
        "unmasked": export.unmasked,
        "url": f"/api/v1/exports/{export.id}/file" if done else None,
        "page": f"/exports/{export.id}",
        "file_name": export.file_name or None,
        "size": export.size,
        "error": export.error or None,
        "created_at": export.created_at.isoformat(),
        "finished_at": export.finished_at.isoformat() if export.finished_at else None,
    }


def recent(user: User, limit: int = 20) -> list[Export]:
    return list(
        db.session.scalars(sa.select(Export).where(Export.user_id == user.id).order_by(Export.id.desc()).limit(limit))
    )


def prune(now: datetime) -> int:
    """Delete exported files older than ``exports_keep_days`` (the rows stay, marked expired)."""
    cutoff = now - timedelta(days=settings().exports_keep_days)
    old = list(db.session.scalars(sa.select(Export).where(Export.status == "done", Export.created_at < cutoff)))
    for export in old:
        file_path(export).unlink(missing_ok=True)
        export.status, export.error = "failed", "文件已过保存期限，请重新导出"
    return len(old)

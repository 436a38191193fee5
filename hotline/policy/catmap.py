"""The category → responsible unit map (归口表) as published versions: every category of the taxonomy (levels
1–3) with its unit (a level-2/3 row with a unit overrides its parent's; empty = inherit) and the 属地 flag (the
district/street where it happens handles it). ``publish()`` writes the map to ``categories`` — which routing
reads, unchanged — stores the whole map as the next version, audits the changed rows and bumps the routing
version (every process within a second). Import/export as CSV or XLSX: ``category,unit_code,local``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from hotline import audit
from hotline.db.refcache import bump_version
from hotline.extensions import db
from hotline.models import Category, CategoryMapVersion, Department
from hotline.org import sheets

COLUMNS = ("category", "unit_code", "local")
REQUIRED = ("category",)
TRUE = {"1", "true", "yes", "y", "是", "属地"}
FALSE = {"", "0", "false", "no", "n", "否"}


def current_rows() -> list[dict]:
    """The map in force, read from ``categories``: path, level, unit code (or None), local."""
    query = (
        sa.select(Category.path, Category.level, Department.code, Department.name, Category.local)
        .outerjoin(Department, Department.id == Category.department_id)
        .order_by(Category.path)
    )
    return [
        {"path": p, "level": lvl, "unit": code, "unit_name": name, "local": bool(local)}
        for p, lvl, code, name, local in db.session.execute(query)
    ]


def versions() -> list[CategoryMapVersion]:
    return list(db.session.scalars(sa.select(CategoryMapVersion).order_by(CategoryMapVersion.version.desc())))


def version_rows(version: int) -> list[dict] | None:
    row = db.session.scalar(sa.select(CategoryMapVersion).where(CategoryMapVersion.version == version))
    return None if row is None else row.rows


@dataclass
class Report:
    total: int = 0
    changed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    version: int | None = None


def check(rows: list[dict]) -> tuple[list[dict], list[tuple[int, str]]]:
    """Import rows (``category``, ``unit_code``, ``local``, ``line``) → changes {path, unit, local} and errors."""
    paths = set(db.session.scalars(sa.select(Category.path)))
    units = dict(db.session.execute(sa.select(Department.code, Department.active)).all())
    good, errors, seen = [], [], {}
    for row in rows:
        line, path = row.get("line", 0), (row.get("category") or "").strip().strip("/")
        code = (row.get("unit_code") or "").strip()
        local = (row.get("local") or "").strip().lower()
        if path not in paths:
            errors.append((line, f"分类「{path[:60]}」不存在（应为完整路径，如 城乡建设/物业管理）"))
            continue
        if path in seen:
            errors.append((line, f"分类「{path[:60]}」与第 {seen[path]} 行重复"))
            continue
        if code and code not in units:
            errors.append((line, f"承办单位代码「{code[:32]}」不存在"))
            continue
        if code and not units[code]:
            errors.append((line, f"承办单位「{code}」已停用"))
            continue
        if local not in TRUE | FALSE:
            errors.append((line, f"属地「{local[:10]}」无效，应为 1（是）或 0（否）"))
            continue
        seen[path] = line
        good.append({"path": path, "unit": code or None, "local": local in TRUE})
    return good, errors


def publish(changes: list[dict], note: str, actor) -> Report:
    """Apply ``changes`` ({path, unit code or None, local}) to ``categories`` and store the whole map as the next
    version (rows not named keep their value). Flushes; the caller commits."""
    report = Report(total=len(changes))
    by_path = {c.path: c for c in db.session.scalars(sa.select(Category))}
    unit_ids = dict(db.session.execute(sa.select(Department.code, Department.id)).all())
    before, after = [], []
    for change in changes:
        cat = by_path[change["path"]]
        old_unit = db.session.get(Department, cat.department_id).code if cat.department_id else None
        if (old_unit, bool(cat.local)) == (change["unit"], change["local"]):
            continue
        before.append({"path": cat.path, "unit": old_unit, "local": bool(cat.local)})
        cat.department_id = unit_ids[change["unit"]] if change["unit"] else None
        cat.local = change["local"]
        after.append({"path": cat.path, "unit": change["unit"], "local": change["local"]})
    report.changed = len(after)
    db.session.flush()
    latest = db.session.scalar(sa.select(sa.func.max(CategoryMapVersion.version))) or 0
    snapshot = [{"path": r["path"], "unit": r["unit"], "local": r["local"]} for r in current_rows()]
    db.session.add(
        CategoryMapVersion(
            version=latest + 1,
            rows=snapshot,
            note=note,
            created_at=datetime.now(UTC),
            created_by_id=getattr(actor, "id", None),
        )
    )
    report.version = latest + 1
    audit.record(
        actor,
        "category_map.publish",
        "category_map",
        latest + 1,
        before=before,
        after=after,
        detail=f"归口表第 {latest + 1} 版：修改 {report.changed} 个分类" + (f"；{note}" if note else ""),
    )
    db.session.flush()
    bump_version()
    return report


def import_file(raw: bytes, filename: str, note: str, actor, *, partial: bool = False) -> Report:
    """Read and publish an upload; all or nothing unless ``partial``. Raises sheets.SheetError for a bad file."""
    rows = sheets.read_rows(raw, filename, COLUMNS, REQUIRED)
    changes, errors = check(rows)
    if errors and not partial:
        return Report(total=len(rows), errors=errors)
    report = publish(changes, note, actor)
    report.total, report.errors = len(rows), errors
    return report


def export_table(version: int | None = None) -> list[list]:
    rows = current_rows() if version is None else (version_rows(version) or [])
    return [[r["path"], r["unit"] or "", "1" if r["local"] else "0"] for r in rows]

"""The gazetteer's places (``places`` table): read a place list, load it (add, update, retire), write it back.

A place list is CSV or XLSX (first sheet) with the columns ``name,kind,unit_code`` and optionally ``aliases``
(docs/api.md; the older header ``unit,kind,name,aliases`` is read too): the name, one of ``PLACE_KINDS``, the code
of the unit responsible for it (a district, street or community; a community's places count for its street),
other spellings separated by ``;`` or ``|``. Loading is an upsert by (unit, name), all or nothing unless
``partial``; it flushes and bumps the routing version (after commit every process rebuilds its gazetteer and the
KB's tokenizer learns the new words); the caller commits.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from hotline.db.refcache import bump_version
from hotline.extensions import db
from hotline.models import Department, Place
from hotline.models.places import PLACE_KINDS
from hotline.org import sheets

COLUMNS = ("unit", "kind", "name", "aliases")  # the older header (``export_csv``)
FILE_COLUMNS = ("name", "kind", "unit_code", "aliases")  # docs/api.md: flask places import FILE
_ALIAS_SPLIT = re.compile(r"[|;；]")


class PlaceListError(ValueError):
    """A place list that cannot be loaded: ``errors`` holds (line, reason) of every bad row."""

    def __init__(self, errors: list[tuple[int, str]]):
        super().__init__("；".join(f"第 {line} 行：{reason}" if line else reason for line, reason in errors))
        self.errors = errors


@dataclass
class LoadReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # rows skipped (``partial``)


def decode(raw: bytes) -> str:
    """A CSV file's text: UTF-8 (with or without BOM), else GB 18030 — what Excel saves on a Chinese Windows."""
    try:
        return sheets.decode(raw)
    except sheets.SheetError:
        raise PlaceListError([(0, "文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV")]) from None


def read_csv(text: str) -> list[dict]:
    """The rows of a place list: {"unit", "kind", "name", "aliases": [..], "line"} (raises PlaceListError with
    every bad row: its line in the file and the reason in Chinese)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = reader.fieldnames or ()
    unit_column = "unit" if "unit" in fields else "unit_code"
    missing = [c for c in ("kind", "name") if c not in fields] + ([] if unit_column in fields else ["unit"])
    if missing:
        raise PlaceListError([(1, f"缺少列：{', '.join(missing)}（表头应为 {','.join(COLUMNS)}）")])
    raw = [
        {
            "unit": r.get(unit_column) or "",
            "kind": r.get("kind") or "",
            "name": r.get("name") or "",
            "aliases": r.get("aliases") or "",
            "line": line,
        }
        for line, r in enumerate(reader, start=2)
    ]
    rows, errors = check_rows(raw)
    if errors:
        raise PlaceListError(errors)
    return rows


def read_file(raw: bytes, filename: str) -> tuple[list[dict], list[tuple[int, str]]]:
    """The good rows of a CSV/XLSX place list and the (line, reason) of each bad one (raises PlaceListError for a
    file that cannot be read at all)."""
    try:
        table = sheets.read_rows(raw, filename, (*FILE_COLUMNS, "unit"), ("name", "kind"))
    except sheets.SheetError as err:
        raise PlaceListError([(0, str(err))]) from None
    if table and not any(r["unit_code"] or r["unit"] for r in table):
        raise PlaceListError([(1, f"第 1 行（表头）缺少列：unit_code（表头应为 {','.join(FILE_COLUMNS)}）")])
    for r in table:
        r["unit"] = r.pop("unit_code") or r["unit"]
    return check_rows(table)


def check_rows(raw_rows: list[dict]) -> tuple[list[dict], list[tuple[int, str]]]:
    """Rows {"unit", "kind", "name", "aliases" (text), "line"} checked: the good ones (aliases as a list) and the
    (line, reason in Chinese) of every bad one."""
    rows, errors, seen = [], [], {}
    for r in raw_rows:
        line = r.get("line", 0)
        row = {
            "unit": (r.get("unit") or "").strip(),
            "kind": (r.get("kind") or "").strip().lower(),
            "name": (r.get("name") or "").strip(),
            "aliases": [a.strip() for a in _ALIAS_SPLIT.split(r.get("aliases") or "") if a.strip()],
            "line": line,
        }
        key = (row["unit"], row["name"])
        if row["kind"] not in PLACE_KINDS:
            errors.append((line, f"类型（kind）应为 {'、'.join(PLACE_KINDS)} 之一，而不是「{row['kind'][:20]}」"))
        elif not row["unit"] or not 2 <= len(row["name"]) <= 100:
            errors.append((line, "单位代码（unit）必填，名称（name）应为 2–100 个字符"))
        elif any(not 2 <= len(a) <= 100 for a in row["aliases"]):
            errors.append((line, "别名（aliases）每个应为 2–100 个字符，用分号分隔"))
        elif key in seen:
            errors.append((line, f"与第 {seen[key]} 行重复（单位 {row['unit']}、名称 {row['name']}）"))
        else:
            seen[key] = line
            rows.append(row)
    return rows, errors


def load(
    rows: list[dict],
    *,
    replace: bool = False,
    add_only: bool = False,
    allow_empty: bool = False,
    partial: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> LoadReport:
    """Add or update the places of ``rows`` (keyed by unit and name; a retired one is made active again);
    with ``replace``, retire every active place not in ``rows``; with ``add_only``, leave existing ones as
    they are (the demo seed); an empty list with ``replace`` (every place retired) only with ``allow_empty``.
    All or nothing: an unknown unit raises PlaceListError before anything is written (with ``partial``,
    those rows are skipped and listed in the report's ``errors``). ``progress(done, total)`` every 1000 rows."""
    if replace and not rows and not allow_empty:
        raise PlaceListError([(0, "地名表为空：按此替换会停用全部地名，已拒绝")])
    units = {d.code: d for d in db.session.scalars(sa.select(Department))}
    unknown = [(r.get("line", 0), f"未知的单位代码 {r['unit']}") for r in rows if r["unit"] not in units]
    if unknown and not partial:
        raise PlaceListError(unknown)
    rows = [r for r in rows if r["unit"] in units]
    existing = {(p.department_id, p.name): p for p in db.session.scalars(sa.select(Place))}
    report, keep = LoadReport(errors=sorted(unknown)), set()
    for done, row in enumerate(rows, start=1):
        if done % 1000 == 0:
            db.session.flush()  # in batches: the progress shows rows written, the flush at the end stays small
            if progress:
                progress(done, len(rows))
        unit = units[row["unit"]]
        key = (unit.id, row["name"])
        keep.add(key)
        place = existing.get(key)
        if place is None:
            place = Place(department=unit, kind=row["kind"], name=row["name"], aliases=list(row["aliases"]))
            db.session.add(place)
            existing[key] = place
            report.added += 1
        elif add_only:
            report.unchanged += 1
        elif (place.kind, list(place.aliases or ()), place.active) != (row["kind"], row["aliases"], True):
            place.kind, place.aliases, place.active = row["kind"], list(row["aliases"]), True
            report.updated += 1
        else:
            report.unchanged += 1
    if replace:
        for key, place in existing.items():
            if key not in keep and place.active:
                place.active = False
                report.retired += 1
    db.session.flush()
    if progress:
        progress(len(rows), len(rows))
    if report.added or report.updated or report.retired:
        bump_version()
    return report


def export_csv(include_retired: bool = False) -> str:
    """The place list of the database, in the format ``read_csv`` reads."""
    query = sa.select(Department.code, Place.kind, Place.name, Place.aliases).join(
        Department, Department.id == Place.department_id
    )
    if not include_retired:
        query = query.where(Place.active.is_(True))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for code, kind, name, aliases in db.session.execute(query.order_by(Department.path, Place.id)):
        writer.writerow([code, kind, name, "|".join(aliases or ())])
    return out.getvalue()


def export_rows(include_retired: bool = False) -> list[list]:
    """The place list in the import file's format (``FILE_COLUMNS``), by unit."""
    query = sa.select(Place.name, Place.kind, Department.code, Place.aliases).join(
        Department, Department.id == Place.department_id
    )
    if not include_retired:
        query = query.where(Place.active.is_(True))
    rows = db.session.execute(query.order_by(Department.path, Place.id))
    return [[name, kind, code, ";".join(aliases or ())] for name, kind, code, aliases in rows]


def of_unit(unit: Department) -> list[Place]:
    """The places of one unit (retired ones last), for the organisation pages."""
    query = sa.select(Place).where(Place.department_id == unit.id)
    return list(db.session.scalars(query.order_by(Place.active.desc(), Place.kind, Place.name)))

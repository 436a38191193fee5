"""The gazetteer's places (``places`` table): read a place list, load it (add, update, retire), write it back.

A place list is CSV with the columns ``unit,kind,name,aliases`` (``aliases`` separated by ``|``): the unit's code
(the district or street responsible for the place), one of ``PLACE_KINDS``, the name, other spellings. Loading
flushes and bumps the routing version (after commit every process rebuilds its gazetteer and the KB's tokenizer
learns the new words); the caller commits.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import sqlalchemy as sa

from hotline.db.refcache import bump_version
from hotline.extensions import db
from hotline.models import Department, Place
from hotline.models.places import PLACE_KINDS

COLUMNS = ("unit", "kind", "name", "aliases")


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


def decode(raw: bytes) -> str:
    """A CSV file's text: UTF-8 (with or without BOM), else GB 18030 — what Excel saves on a Chinese Windows."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PlaceListError([(0, "文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV")])


def read_csv(text: str) -> list[dict]:
    """The rows of a place list: {"unit", "kind", "name", "aliases": [..], "line"} (raises PlaceListError with
    every bad row: its line in the file and the reason in Chinese)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in COLUMNS[:3] if c not in (reader.fieldnames or ())]
    if missing:
        raise PlaceListError([(1, f"缺少列：{', '.join(missing)}（表头应为 {','.join(COLUMNS)}）")])
    rows, errors, seen = [], [], {}
    for line, r in enumerate(reader, start=2):
        row = {
            "unit": (r.get("unit") or "").strip(),
            "kind": (r.get("kind") or "").strip(),
            "name": (r.get("name") or "").strip(),
            "aliases": [a.strip() for a in (r.get("aliases") or "").split("|") if a.strip()],
            "line": line,
        }
        key = (row["unit"], row["name"])
        if row["kind"] not in PLACE_KINDS:
            errors.append((line, f"类型（kind）应为 {'、'.join(PLACE_KINDS)} 之一，而不是「{row['kind'][:20]}」"))
        elif not row["unit"] or not 2 <= len(row["name"]) <= 100:
            errors.append((line, "单位代码（unit）必填，名称（name）应为 2–100 个字符"))
        elif key in seen:
            errors.append((line, f"与第 {seen[key]} 行重复（单位 {row['unit']}、名称 {row['name']}）"))
        else:
            seen[key] = line
            rows.append(row)
    if errors:
        raise PlaceListError(errors)
    return rows


def load(rows: list[dict], *, replace: bool = False, add_only: bool = False, allow_empty: bool = False) -> LoadReport:
    """Add or update the places of ``rows`` (keyed by unit and name; a retired one is made active again);
    with ``replace``, retire every active place not in ``rows``; with ``add_only``, leave existing ones as
    they are (the demo seed); an empty list with ``replace`` (every place retired) only with ``allow_empty``.
    All or nothing: an unknown unit raises
    PlaceListError before anything is written."""
    if replace and not rows and not allow_empty:
        raise PlaceListError([(0, "地名表为空：按此替换会停用全部地名，已拒绝")])
    units = {d.code: d for d in db.session.scalars(sa.select(Department))}
    unknown = [(r.get("line", 0), f"未知的单位代码 {r['unit']}") for r in rows if r["unit"] not in units]
    if unknown:
        raise PlaceListError(unknown)
    existing = {(p.department_id, p.name): p for p in db.session.scalars(sa.select(Place))}
    report, keep = LoadReport(), set()
    for row in rows:
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

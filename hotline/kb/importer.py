"""Import a catalogue file: check every row first; import all (or, with ``partial``, only the good rows).

Rows with an existing code update that entry (a new version); new codes create entries. Flushes; the CLI
commits once at the end, so a failure part-way leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from hotline.cases.errors import InvalidInput
from hotline.extensions import db
from hotline.kb import entries
from hotline.kb.input import parse_entry
from hotline.models import KbEntry
from hotline.models.knowledge import SERVICE_FIELDS
from knowledge_base import catalog


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: list[catalog.Row] = field(default_factory=list)
    imported: bool = False


def _body(row: catalog.Row) -> dict:
    v = row.values
    return {
        "kind": v["kind"],
        "code": v["code"],
        "title": v["title"],
        "body": v["body"],
        "department_code": v["department_code"],
        "category": v["category"],
        "tags": catalog.split_list(v["tags"]),
        "districts": catalog.split_list(v["districts"]),
        "fields": {k: v[k] for k in SERVICE_FIELDS if v.get(k)},
        "valid_from": v["valid_from"],
        "valid_to": v["valid_to"],
    }


def run(path: str, actor, now: datetime, *, partial: bool = False, status: str = "published") -> ImportReport:
    rows = catalog.read(path)
    report = ImportReport(total=len(rows))
    seen: dict[str, int] = {}
    checked = []
    for row in rows:
        if not row.errors:
            if not row.values.get("code") and row.values.get("kind") == "service_item":
                row.errors["code"] = "服务事项必须填写事项编码"
            code = row.values.get("code")
            if code and code in seen:
                row.errors["code"] = f"与第 {seen[code]} 行的事项编码重复"
            elif code:
                seen[code] = row.line
        current = (
            db.session.scalar(sa.select(KbEntry).where(KbEntry.code == row.values.get("code")))
            if row.values.get("code")
            else None
        )
        data = None
        if not row.errors:
            try:
                data = parse_entry(_body(row), current)
            except InvalidInput as err:
                row.errors.update(err.fields or {"row": err.message})
        if row.errors:
            report.bad.append(row)
        else:
            checked.append((row, current, data))
    if report.bad and not partial:
        return report
    for row, current, data in checked:
        if current is None:
            entries.create(data, actor, now, status=status, note=f"导入（{row.line}）")
            report.created += 1
        elif _same(current, data):
            report.unchanged += 1  # no new version for a row that changes nothing
        else:
            entries.update(current, data, actor, now, note=f"导入更新（{row.line}）")
            report.updated += 1
    db.session.flush()
    report.imported = True
    return report


def _same(entry: KbEntry, data: entries.EntryData) -> bool:
    return (
        entry.kind,
        entry.title,
        entry.body or "",
        entry.department,
        entry.category,
        list(entry.tags or []),
        list(entry.districts or []),
        dict(entry.fields or {}),
        entry.valid_from,
        entry.valid_to,
    ) == (
        data.kind,
        data.title,
        data.body or "",
        data.department,
        data.category,
        list(dict.fromkeys(data.tags or [])),
        list(dict.fromkeys(data.districts or [])),
        {k: v for k, v in (data.fields or {}).items() if v},
        data.valid_from,
        data.valid_to,
    )


def export_records(status: str | None = "published") -> list[dict]:
    query = sa.select(KbEntry).order_by(KbEntry.id)
    if status:
        query = query.where(KbEntry.status == status)
    out = []
    for e in db.session.scalars(query):
        rec = {
            "kind": e.kind,
            "code": e.code or "",
            "title": e.title,
            "body": e.body,
            "department_code": e.department.code if e.department else "",
            "category": e.category.path if e.category else "",
            "tags": e.tags or [],
            "districts": e.districts or [],
            "valid_from": e.valid_from,
            "valid_to": e.valid_to,
        }
        rec.update({k: (e.fields or {}).get(k, "") for k in SERVICE_FIELDS})
        out.append(rec)
    return out

"""Search as the API and the console use it: the index's hits plus snippets read from the database."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from hotline.extensions import db
from hotline.kb.index import current_index
from hotline.models import KbEntry
from hotline.models.knowledge import SERVICE_FIELDS
from knowledge_base.search import Filters, snippet


def today() -> int:
    return datetime.now(ZoneInfo(current_app.config["HOTLINE"].timezone)).date().toordinal()


def entry_text(entry_body: str, fields: dict) -> str:
    parts = [entry_body or ""]
    parts += [f"{label}：{fields[k]}" for k, label in SERVICE_FIELDS.items() if fields.get(k)]
    return "\n".join(p for p in parts if p)


def search(query: str, limit: int = 10, filters: Filters | None = None) -> list[dict]:
    index = current_index()
    hits = index.search(query, limit=limit, filters=filters, today=today())
    if not hits:
        return []
    table = KbEntry.__table__  # Core: no ORM overhead on the hot path
    rows = {
        r.id: r
        for r in db.session.execute(
            sa.select(table.c.id, table.c.body, table.c.fields).where(table.c.id.in_([h.id for h in hits]))
        )
    }
    out = []
    for h in hits:
        row = rows.get(h.id)
        text = entry_text(row.body, row.fields or {}) if row else ""
        out.append(
            {
                "id": h.id,
                "code": h.code,
                "title": h.title,
                "kind": h.kind,
                "score": h.score,
                "snippet": snippet(text, h.matched),
            }
        )
    return out

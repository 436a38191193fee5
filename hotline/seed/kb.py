"""Load the demo knowledge base and synonym table (idempotent: entries are keyed by code)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from hotline.extensions import db
from hotline.kb import entries
from hotline.models import Category, Department, KbEntry, KbSynonym
from hotline.seed import city, kb_articles, kb_items
from knowledge_base.synonyms import DEFAULT_GROUPS

POLICY_END = date(2026, 12, 31)  # yearly figures (fees, standards) are reviewed each year


def seed_synonyms() -> int:
    existing = set(db.session.scalars(sa.select(KbSynonym.term)))
    added = 0
    for group in DEFAULT_GROUPS:
        for term in group:
            if term not in existing:
                db.session.add(KbSynonym(term=term, group=group[0]))
                existing.add(term)
                added += 1
    db.session.flush()
    return added


def _specs() -> list[dict]:
    specs = []
    counters: dict[str, int] = {}
    for dept, category, place, phone, items in kb_items.GROUPS:
        for title, tags, conditions, materials, fees, limit, body in items:
            counters[dept] = counters.get(dept, 0) + 1
            specs.append(
                {
                    "code": f"{dept}-{counters[dept]:03d}",
                    "kind": "service_item",
                    "department": dept,
                    "category": category,
                    "title": title,
                    "tags": tags,
                    "body": body,
                    "fields": {
                        "unit": {c: n for c, n, _ in city._CITY_UNITS}.get(dept, ""),
                        "conditions": conditions,
                        "materials": materials,
                        "fees": fees,
                        "time_limit": limit,
                        "place": place,
                        "hours": kb_items.UNIT_HOURS.get(dept, kb_items.HOURS),
                        "phone": phone,
                        "online": kb_items.ONLINE,
                    },
                }
            )
    for n, (dept, category, title, tags, body) in enumerate(kb_articles.ARTICLES, start=1):
        yearly = any(ch.isdigit() for ch in body) and "2026" in body
        specs.append(
            {
                "code": f"QA-{n:03d}",
                "kind": "article",
                "department": dept,
                "category": category,
                "title": title,
                "tags": tags,
                "body": body,
                "valid_to": POLICY_END if yearly else None,
            }
        )
    districts = [(d["code"], d["name"]) for d in city.DEPARTMENTS if d["kind"] == "district"]
    streets: dict[str, list[str]] = {}
    for d in city.DEPARTMENTS:
        if d["kind"] == "street":
            streets.setdefault(d["parent"], []).append(d["name"])
    for n, spec in enumerate(kb_articles.district_articles(districts, streets), start=1):
        specs.append({**spec, "code": f"GUIDE-{n:03d}", "kind": "article"})
    return specs


def seed_kb() -> int:
    seed_synonyms()
    existing = set(db.session.scalars(sa.select(KbEntry.code)))
    units = {d.code: d for d in db.session.scalars(sa.select(Department))}
    categories = {c.path: c for c in db.session.scalars(sa.select(Category))}
    now = datetime.now(UTC)
    added = 0
    for spec in _specs():
        if spec["code"] in existing:
            continue
        data = entries.EntryData(
            kind=spec["kind"],
            title=spec["title"],
            body=spec["body"],
            code=spec["code"],
            department=units.get(spec["department"]),
            category=categories.get(spec["category"]),
            tags=spec["tags"],
            districts=spec.get("districts"),
            fields=spec.get("fields"),
            valid_to=spec.get("valid_to"),
        )
        entries.create(data, None, now, status="published", note="示范知识库")
        added += 1
    db.session.flush()
    return added

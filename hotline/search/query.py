"""The case search behind ``/cases`` and ``GET /api/v1/cases``: the query string → SQL conditions.

``q`` is matched against the case number (whole or prefix), the caller's phone (normalised, found through the
blind index: every case of that citizen file) and the words of title, content and address (the terms index,
hotline/search/terms.py). Filters: status (comma list), kind, channel, urgency, category (path or level-1 name,
with its sub-categories), unit (department code or id, with its sub-units), created_from / created_to (local
dates, inclusive) and due_before. Problems come back as {field: zh-CN message}, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hotline.cases.workflow import STATE_LABELS
from hotline.citizens.phones import try_normalize
from hotline.citizens.profile import find_phone
from hotline.db import refcache
from hotline.db.dialect import is_postgres
from hotline.extensions import db
from hotline.models import Case, CaseSearchTerms, Category, Department
from hotline.models.cases import CHANNELS, KINDS, URGENCIES
from hotline.search import index
from hotline.search.terms import fts5_match, query_runs, tsquery_text
from hotline.web.validation import search_text

NUMBER = re.compile(r"[A-Za-z]{1,4}\d{6,8}(-\d{0,7})?")
PHONE = re.compile(r"\+?[\d\- ]{7,20}")
FILTERS = ("q", "status", "kind", "channel", "urgency", "category", "department", "created_from", "created_to")
PAGE_EXTRA = ("q", "channel", "category", "created_from", "created_to")  # beyond the case list page's own
EXTRA = ("q", "kind", "channel", "urgency", "category", "created_from", "created_to")  # beyond the API's own


@dataclass
class Search:
    conds: list = field(default_factory=list)
    shown: dict = field(default_factory=dict)  # the accepted values, to show back in a form / link
    problems: dict = field(default_factory=dict)  # field -> zh-CN message


def text_condition(q: str):
    """Cases whose title, content or address contain every run of ``q`` (None: nothing searchable in q)."""
    runs = query_runs(q)
    if not runs:
        return None
    if is_postgres():
        # ``tsv``: a PostgreSQL-only stored column, to_tsvector('simple', terms), GIN-indexed (the migration)
        ids = sa.select(CaseSearchTerms.case_id).where(
            sa.literal_column("case_search_terms.tsv").op("@@")(
                sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), tsquery_text(runs))
            )
        )
    else:
        ids = (
            sa.select(sa.literal_column("rowid"))
            .select_from(sa.table("case_search_fts"))
            .where(sa.literal_column("case_search_fts").op("MATCH")(fts5_match(runs)))
        )
    return Case.id.in_(ids)


def _q(search: Search, raw: str | None) -> None:
    q, problem = search_text(raw, 100)
    if problem:
        search.problems["q"] = problem
        return
    if not q:
        return
    search.shown["q"] = q
    options = []
    if NUMBER.fullmatch(q):
        number = q.upper()
        # a range, not LIKE: SQLite's LIKE is case-insensitive and cannot use the unique index on number
        prefix = sa.and_(Case.number >= number, Case.number < number + "\U0010ffff")
        options.append(Case.number == number if "-" in number and len(number) > 12 else prefix)
    if PHONE.fullmatch(q) and sum(c.isdigit() for c in q) >= 7:
        phone = try_normalize(q)
        row = find_phone(phone) if phone else None
        if row is not None:
            options.append(Case.citizen_id == row.citizen_id)
    # a case number or a known phone number is what was meant: no text search over every case's digits
    if not options and (text := text_condition(q)) is not None:
        options.append(text)
    search.conds.append(sa.or_(*options) if options else sa.false())


def _choice(search: Search, args, name: str, allowed, label: str) -> None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return
    values = [v for v in raw.split(",") if v]
    unknown = [v for v in values if v not in allowed]
    if unknown:
        search.problems[name] = f"未知的{label}：{'、'.join(unknown)[:40]}"
        return
    column = {"status": Case.status, "kind": Case.kind, "channel": Case.channel, "urgency": Case.urgency}[name]
    search.conds.append(column.in_(values))
    search.shown[name] = ",".join(values)


def _unit(search: Search, raw: str | None) -> None:
    raw = (raw or "").strip()
    if not raw:
        return
    unit = None
    if raw.isascii() and raw.isdigit() and len(raw) < 10:
        unit = db.session.get(Department, int(raw))
    if unit is None and len(raw) <= 32 and "\x00" not in raw:
        unit = refcache.active_unit(raw)
    if unit is None:
        search.problems["department"] = f"未知的单位：{raw[:40]}"
        return
    search.conds.append(
        Case.lead_department_id.in_(sa.select(Department.id).where(Department.path.startswith(unit.path)))
    )
    search.shown["department"] = raw


def _category(search: Search, raw: str | None) -> None:
    raw = (raw or "").strip()
    if not raw:
        return
    row = refcache.category(raw) if len(raw) <= 255 and "\x00" not in raw else None
    if row is None:
        search.problems["category"] = f"未知的分类：{raw[:40]}"
        return
    search.conds.append(
        Case.category_id.in_(
            sa.select(Category.id).where(sa.or_(Category.path == row.path, Category.path.startswith(row.path + "/")))
        )
    )
    search.shown["category"] = raw


def _day(search: Search, args, name: str, zone: ZoneInfo) -> datetime | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw[:10]) if len(raw) <= 10 else None
    except ValueError:
        day = None
    if day is None:
        search.problems[name] = "日期格式不正确，应为 2026-11-30 这样的格式"
        return None
    search.shown[name] = raw
    return datetime.combine(day, time.min, tzinfo=zone)


def build(args, timezone: str) -> Search:
    """Conditions for the request's query string (a MultiDict or dict)."""
    search = Search()
    _q(search, args.get("q"))
    if "status" in args:
        _choice(search, args, "status", STATE_LABELS, "状态")
    _choice(search, args, "kind", KINDS, "类型")
    _choice(search, args, "channel", CHANNELS, "渠道")
    _choice(search, args, "urgency", URGENCIES, "紧急程度")
    _category(search, args.get("category"))
    if "department" in args or "unit" in args:
        _unit(search, args.get("department") or args.get("unit"))
    zone = ZoneInfo(timezone)
    if (start := _day(search, args, "created_from", zone)) is not None:
        search.conds.append(Case.created_at >= start)
    if (end := _day(search, args, "created_to", zone)) is not None:
        search.conds.append(Case.created_at < end + timedelta(days=1))
    return search


def prepare() -> bool:
    """Index the cases committed since the last search (one batch); True when more remain to be indexed."""
    done = index.catch_up(db.session)
    if done:
        db.session.commit()
    return done >= index.BATCH

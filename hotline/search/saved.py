"""Saved filters (常用筛选): a staff member's named searches of the case list, kept as its query string."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa

from hotline.cases.errors import InvalidInput, NotFound
from hotline.extensions import db
from hotline.models import SavedFilter, User
from hotline.search.query import FILTERS

MAX_PER_USER = 30


def clean_query(raw: str) -> str:
    """Only the search's own parameters, in a stable order (no page number, nothing else)."""
    pairs = [(k, v) for k, v in parse_qsl(raw or "", keep_blank_values=False) if k in (*FILTERS, "due_before") and v]
    return urlencode(sorted(pairs))


def listed(user: User) -> list[SavedFilter]:
    return list(
        db.session.scalars(sa.select(SavedFilter).where(SavedFilter.user_id == user.id).order_by(SavedFilter.name))
    )


def save(user: User, name: str, query: str) -> SavedFilter:
    """Save (or replace, by name) one filter; refused with zh-CN messages when empty or too long."""
    name = (name or "").strip()
    query = clean_query(query)
    problems = {}
    if not name or len(name) > 40:
        problems["name"] = "名称为 1–40 个字"
    if not query:
        problems["query"] = "当前没有筛选条件，无需保存"
    elif len(query) > 1000:
        problems["query"] = "筛选条件过长"
    if problems:
        raise InvalidInput("invalid_input", next(iter(problems.values())), problems)
    row = db.session.scalar(sa.select(SavedFilter).where(SavedFilter.user_id == user.id, SavedFilter.name == name))
    if row is None:
        if len(listed(user)) >= MAX_PER_USER:
            raise InvalidInput("invalid_input", f"最多保存 {MAX_PER_USER} 个常用筛选", {"name": "已达上限"})
        row = SavedFilter(user_id=user.id, name=name, query=query)
        db.session.add(row)
    row.query = query
    db.session.flush()
    return row


def delete(user: User, filter_id: int) -> None:
    row = db.session.get(SavedFilter, filter_id)
    if row is None or row.user_id != user.id:
        raise NotFound("not_found", "常用筛选不存在")
    db.session.delete(row)
    db.session.flush()


def as_dict(row: SavedFilter) -> dict:
    return {"id": row.id, "name": row.name, "query": row.query, "created_at": row.created_at.isoformat()}

"""Resolve codes and names from requests into rows, with zh-CN 400 errors for unknown values."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.db import refcache
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models import Case, Category, Department, KbEntry


def _queryable(value: str, max_len: int) -> bool:
    """False for values no row can match; NUL in particular is refused by PostgreSQL with an error."""
    return len(value) <= max_len and "\x00" not in value


def department(code: str, field: str = "department_code") -> Department:
    row = refcache.active_unit(code) if _queryable(code, 32) else None
    if row is None:
        raise ApiError(400, "unknown_department", f"未知的单位代码：{code[:40]}", {field: "单位代码不存在"})
    return row


def district(code: str) -> Department:
    row = department(code, "district_code")
    if row.kind not in ("district", "street"):
        raise ApiError(400, "unknown_district", f"{code} 不是区县或街道代码", {"district_code": "不是区县或街道"})
    return row


def category(value: str) -> Category:
    """A category by full path ("城乡建设/物业管理/…") or by level-1 name."""
    row = refcache.category(value) if _queryable(value, 255) else None
    if row is None:
        raise ApiError(400, "unknown_category", f"未知的分类：{value[:40]}", {"category": "分类不存在"})
    return row


def case_by_number(number: str, field: str | None = None) -> Case:
    """The case with ``number``: 404 when it is the URL's case, 400 naming ``field`` when a body refers to it."""
    row = db.session.scalar(sa.select(Case).where(Case.number == number)) if _queryable(number, 32) else None
    if row is None:
        if field:
            raise ApiError(400, "unknown_case", f"工单 {number[:40]} 不存在", {field: "工单编号不存在"})
        raise ApiError(404, "case_not_found", f"工单 {number[:40]} 不存在")
    return row


def kb_entry(entry_id: int) -> KbEntry:
    row = db.session.get(KbEntry, entry_id)
    if row is None:
        raise ApiError(400, "unknown_kb_entry", f"知识库条目 {entry_id} 不存在", {"kb_id": "知识库条目不存在"})
    return row

"""Resolve codes and names from requests into rows, with zh-CN 400 errors for unknown values."""
from __future__ import annotations

import sqlalchemy as sa

from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models import Case, Category, Department


def department(code: str, field: str = "department_code") -> Department:
    row = db.session.scalar(sa.select(Department).where(Department.code == code, Department.active.is_(True)))
    if row is None:
        raise ApiError(400, "unknown_department", f"未知的单位代码：{code}", {field: "单位代码不存在"})
    return row


def district(code: str) -> Department:
    row = department(code, "district_code")
    if row.kind not in ("district", "street"):
        raise ApiError(400, "unknown_district", f"{code} 不是区县或街道代码", {"district_code": "不是区县或街道"})
    return row


def category(value: str) -> Category:
    """A category by full path ("城乡建设/物业管理/…") or by level-1 name."""
    row = db.session.scalar(sa.select(Category).where(Category.path == value))
    if row is None:
        row = db.session.scalar(sa.select(Category).where(Category.level == 1, Category.name == value))
    if row is None:
        raise ApiError(400, "unknown_category", f"未知的分类：{value}", {"category": "分类不存在"})
    return row


def case_by_number(number: str) -> Case:
    row = db.session.scalar(sa.select(Case).where(Case.number == number)) if len(number) <= 32 else None
    if row is None:
        raise ApiError(404, "case_not_found", f"工单 {number[:40]} 不存在")
    return row

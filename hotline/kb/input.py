"""Parse and check a KB entry body (the API, the pages and the import share the rules): ``InvalidInput`` with a
zh-CN reason per field."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from hotline.cases.errors import InvalidInput
from hotline.extensions import db
from hotline.kb.entries import EntryData
from hotline.models import Category, Department, KbEntry
from hotline.models.knowledge import KB_KINDS, SERVICE_FIELDS
from hotline.web.validation import Str, parse

MAX_TAGS, MAX_TAG_LEN = 20, 30


def _str_list(value, label: str, max_items: int, max_len: int) -> tuple[list[str], str | None]:
    if value is None:
        return [], None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return [], f'{label}必须是文本列表，如 ["社保", "参保"]'
    items = [v.strip() for v in value if v.strip()]
    if len(items) > max_items:
        return [], f"{label}最多{max_items}个"
    if any(len(v) > max_len for v in items):
        return [], f"每个{label}不能超过{max_len}个字"
    return items, None


def _date(value, label: str) -> tuple[date | None, str | None]:
    if value in (None, ""):
        return None, None
    try:
        return date.fromisoformat(value), None
    except (TypeError, ValueError):
        return None, f"{label}必须是日期，如 2026-12-31"


def parse_entry(body: dict, current: KbEntry | None = None) -> EntryData:
    problems: dict[str, str] = {}
    try:
        data = parse(
            {
                "kind": Str("条目类型", required=True, choices=KB_KINDS),
                "code": Str("事项编码", max_len=64),
                "title": Str("标题", required=True, max_len=200, min_len=2),
                "body": Str("正文", max_len=20000),
                "department_code": Str("责任单位代码", required=True, max_len=32),
                "category": Str("分类", max_len=255),
            },
            body,
        )
    except InvalidInput as err:  # keep checking the rest: every problem of the entry is reported at once
        problems.update(err.fields)
        data = {
            k: body.get(k) if isinstance(body.get(k), str) else None
            for k in ("kind", "code", "title", "body", "department_code", "category")
        }
    tags, err = _str_list(body.get("tags"), "标签", MAX_TAGS, MAX_TAG_LEN)
    if err:
        problems["tags"] = err
    districts, err = _str_list(body.get("districts"), "适用区县", 20, 32)
    if err:
        problems["districts"] = err
    fields = body.get("fields")
    fields = {} if fields is None else fields
    if not isinstance(fields, dict):
        problems["fields"] = '事项要素必须是对象，如 {"materials": "身份证"}'
        fields = {}
    clean_fields = {}
    for key, value in fields.items():
        if key not in SERVICE_FIELDS:
            problems[f"fields.{key}"[:60]] = f"未知的事项要素，可选：{'、'.join(SERVICE_FIELDS)}"
            continue
        checked, err = Str(SERVICE_FIELDS[key], max_len=2000).check(value) if value is not None else ("", None)
        if err:
            problems[f"fields.{key}"] = err
        elif checked:
            clean_fields[key] = checked
    valid_from, err = _date(body.get("valid_from"), "生效日期")
    if err:
        problems["valid_from"] = err
    valid_to, err = _date(body.get("valid_to"), "失效日期")
    if err:
        problems["valid_to"] = err
    if valid_from and valid_to and valid_to < valid_from:
        problems["valid_to"] = "失效日期不能早于生效日期"
    department = (
        db.session.scalar(sa.select(Department).where(Department.code == data["department_code"]))
        if data["department_code"] and "department_code" not in problems
        else None
    )
    if department is None and "department_code" not in problems:
        problems["department_code"] = "单位代码不存在"
    category = None
    if data["category"] and "category" not in problems:
        category = db.session.scalar(sa.select(Category).where(Category.path == data["category"]))
        if category is None:
            problems["category"] = "分类不存在（请填写完整路径，如 劳动和社会保障/城镇职工社会保险）"
    if districts:
        known = set(
            db.session.scalars(
                sa.select(Department.code).where(
                    Department.code.in_(districts), Department.kind.in_(("district", "street"))
                )
            )
        )
        unknown = [d for d in districts if d not in known]
        if unknown:
            problems["districts"] = f"不是区县或街道代码：{'、'.join(unknown[:5])}"
    if data["code"] and "code" not in problems:
        clash = db.session.scalar(sa.select(KbEntry.id).where(KbEntry.code == data["code"]))
        if clash is not None and (current is None or clash != current.id):
            problems["code"] = f"事项编码 {data['code']} 已被其他条目使用"
    if problems:
        first = next(iter(problems.values()))
        raise InvalidInput("invalid_input", f"提交的内容有误：{first}", problems)
    return EntryData(
        kind=data["kind"],
        title=data["title"],
        body=data["body"] or "",
        code=data["code"],
        department=department,
        category=category,
        tags=tags,
        districts=districts,
        fields=clean_fields,
        valid_from=valid_from,
        valid_to=valid_to,
    )

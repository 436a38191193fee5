"""Admin edits of routing data — override rules and the category → unit mapping — shared by the admin pages
and the API. Every change is checked with the pure rule class first, and bumps the routing version so
every process rebuilds its tables after the commit."""

from __future__ import annotations

import sqlalchemy as sa

from hotline import audit
from hotline.db.refcache import bump_version
from hotline.dispatch.tables import rule_of
from hotline.extensions import db
from hotline.models import Category, Department, RoutingRule
from hotline.policy import catmap
from routing.rules import RuleError, check_speed

RULE_FIELDS = ("priority", "keyword", "regex", "category", "area", "department", "enabled", "note")


class RuleInvalid(ValueError):
    """A rule the admin must correct: ``message`` (zh-CN) and ``fields`` {name: problem}."""

    def __init__(self, message: str, fields: dict[str, str]):
        self.message, self.fields = message, fields
        super().__init__(message)


def level1_names() -> list[str]:
    return list(db.session.scalars(sa.select(Category.name).where(Category.level == 1).order_by(Category.id)))


def save_rule(rule: RoutingRule | None, values: dict) -> RoutingRule:
    """Create (rule None) or update a rule from ``values`` (keys of RULE_FIELDS; ``area``/``department`` are
    Department rows or None); raises RuleInvalid and leaves nothing half-written."""
    problems: dict[str, str] = {}
    category = values.get("category", rule.category if rule else None)
    if category and category not in level1_names():
        problems["category"] = f"一级分类不存在：{category}"
    area = values.get("area", rule.area if rule else None)
    if area is not None and area.kind not in ("district", "street"):
        problems["area_code"] = f"{area.name}不是区县或街道"
    if values.get("department", rule.department if rule else None) is None:
        problems["department_code"] = "请指定承办单位"
    if problems:
        raise RuleInvalid("提交的内容有误：" + next(iter(problems.values())), problems)
    before = _rule_audit(rule) if rule is not None else None
    target = rule or RoutingRule(priority=0, enabled=True, note="")
    with db.session.no_autoflush:
        for name in RULE_FIELDS:
            if name in values:
                setattr(target, name, values[name])
        try:
            check_speed(rule_of(target))
        except RuleError as err:
            if rule is not None:
                db.session.expire(target)
            field = "regex" if "正则" in str(err) else "keyword"
            raise RuleInvalid(str(err), {field: str(err)}) from None
    if rule is None:
        db.session.add(target)
    db.session.flush()
    bump_version()
    audit.record(
        audit.current_actor(),
        "routing.rule.create" if rule is None else "routing.rule.update",
        "routing_rule",
        target.id,
        before=before,
        after=_rule_audit(target),
    )
    return target


def _rule_audit(rule: RoutingRule) -> dict:
    values = {name: getattr(rule, name) for name in RULE_FIELDS if name not in ("area", "department")}
    return values | {
        "area": rule.area.code if rule.area else None,
        "department": rule.department.code if rule.department else None,
    }


def delete_rule(rule: RoutingRule) -> None:
    audit.record(audit.current_actor(), "routing.rule.delete", "routing_rule", rule.id, before=_rule_audit(rule))
    db.session.delete(rule)
    db.session.flush()
    bump_version()


def set_category_unit(category: Category, department: Department | None, local: bool | None) -> Category:
    """One row of the category map: published as the map's next version (audited, routing version bumped)."""
    change = {
        "path": category.path,
        "unit": department.code if department else None,
        "local": category.local if local is None else local,
    }
    catmap.publish([change], "", audit.current_actor())
    return category


def rules() -> list[RoutingRule]:
    return list(db.session.scalars(sa.select(RoutingRule).order_by(RoutingRule.priority.desc(), RoutingRule.id)))


def categories(level: int = 1) -> list[Category]:
    return list(db.session.scalars(sa.select(Category).where(Category.level == level).order_by(Category.id)))

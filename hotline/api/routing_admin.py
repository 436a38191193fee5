"""Admin API for routing data: override rules (/routing/rules) and the category → unit mapping
(/routing/categories). Reading is open to dispatchers and monitors; changing is for admins."""

from __future__ import annotations

from flask import jsonify, request

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import requires
from hotline.dispatch import rules_admin as ra
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models import Category, RoutingRule
from hotline.web import lookups
from hotline.web.validation import Bool, Int, Str, json_body, parse

SPEC = {
    "priority": Int("优先级", min_value=-1000, max_value=1000),
    "keyword": Str("关键词", max_len=200),
    "regex": Str("正则表达式", max_len=300),
    "category": Str("一级分类", max_len=100),
    "area_code": Str("区域代码", max_len=32),
    "department_code": Str("承办单位代码", max_len=32),
    "enabled": Bool("是否启用"),
    "note": Str("说明", max_len=200),
}


def _values(body: dict, partial: bool) -> dict:
    data = parse(SPEC, body)
    values = {}
    for name in ("priority", "keyword", "regex", "category", "enabled", "note"):
        if name in body or not partial:
            values[name] = data[name]
    if not partial or "area_code" in body:
        values["area"] = lookups.department(data["area_code"], "area_code") if data["area_code"] else None
    if not partial or "department_code" in body:
        values["department"] = lookups.department(data["department_code"]) if data["department_code"] else None
    values.setdefault("priority", None)
    if values["priority"] is None:
        values.pop("priority") if partial else values.update(priority=0)
    if not partial:
        values["enabled"] = True if values["enabled"] is None else values["enabled"]
        values["note"] = values["note"] or ""
    return values


def _save(rule, values):
    try:
        return ra.save_rule(rule, values)
    except ra.RuleInvalid as err:
        db.session.rollback()
        raise ApiError(400, "invalid_rule", err.message, err.fields) from None


def _rule(rule_id: int) -> RoutingRule:
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        raise ApiError(404, "rule_not_found", f"规则 {rule_id} 不存在")
    return rule


@api_bp.get("/routing/rules")
@requires("routing.view")
def list_rules():
    return jsonify({"items": [r.to_dict() for r in ra.rules()]})


@api_bp.post("/routing/rules")
@requires("routing.admin")
def create_rule():
    rule = _save(None, _values(json_body(), partial=False))
    body = rule.to_dict()
    db.session.commit()
    return jsonify(body), 201


@api_bp.route("/routing/rules/<int:rule_id>", methods=["PATCH", "PUT"])
@requires("routing.admin")
def update_rule(rule_id: int):
    rule = _rule(rule_id)
    rule = _save(rule, _values(json_body(), partial=request.method == "PATCH"))
    body = rule.to_dict()
    db.session.commit()
    return jsonify(body)


@api_bp.delete("/routing/rules/<int:rule_id>")
@requires("routing.admin")
def delete_rule(rule_id: int):
    ra.delete_rule(_rule(rule_id))
    db.session.commit()
    return "", 204


def _category_dict(c: Category) -> dict:
    return {
        "id": c.id,
        "name": c.name,
        "path": c.path,
        "level": c.level,
        "local": c.local,
        "department_code": c.department.code if c.department else None,
        "department_name": c.department.name if c.department else None,
    }


@api_bp.get("/routing/categories")
@requires("routing.view")
def list_categories():
    level = request.args.get("level", "1")
    level = int(level) if level in ("1", "2", "3") else 1
    return jsonify({"items": [_category_dict(c) for c in ra.categories(level)]})


@api_bp.put("/routing/categories/<int:category_id>")
@requires("routing.admin")
def update_category(category_id: int):
    category = db.session.get(Category, category_id)
    if category is None:
        raise ApiError(404, "category_not_found", f"分类 {category_id} 不存在")
    body = json_body()
    data = parse({"department_code": Str("承办单位代码", max_len=32), "local": Bool("属地管理")}, body)
    unit = lookups.department(data["department_code"]) if data["department_code"] else None
    ra.set_category_unit(category, unit, data["local"])
    out = _category_dict(category)
    db.session.commit()
    return jsonify(out)

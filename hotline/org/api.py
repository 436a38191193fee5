"""REST /api/v1/units: the unit tree. Reading is for staff; adding and changing units for admins (``org.admin``).

A blueprint of its own, registered under /api/v1 beside the API's (same authentication and JSON errors)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from hotline.auth.permissions import authenticate_api, requires
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models.departments import KIND_LABELS
from hotline.org import edit, units
from hotline.web.validation import Bool, Str, json_body, parse

org_api_bp = Blueprint("org_api", __name__)
org_api_bp.before_request(authenticate_api)

SPEC = {
    "name": Str("单位名称", min_len=2, max_len=100),
    "kind": Str("单位类型", max_len=16, choices=KIND_LABELS),
    "parent_code": Str("上级单位代码", max_len=32),
    "active": Bool("是否启用"),
}
ALIAS = Str("别名", required=True, min_len=2, max_len=100)
CREATE_SPEC = {"code": Str("单位代码", required=True, max_len=32), **SPEC}


def _values(body: dict, spec: dict) -> dict:
    data = parse(spec, body)
    aliases = body.get("aliases")
    if aliases is not None:
        if isinstance(aliases, str):
            aliases = [aliases]
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ApiError(
                400, "invalid_input", '别名（aliases）应为文本数组，如 ["东城"]', {"aliases": "应为文本数组"}
            )
        if len(aliases) > units.MAX_ALIASES:
            raise ApiError(400, "invalid_input", f"别名最多 {units.MAX_ALIASES} 个", {"aliases": "别名太多"})
        for alias in aliases:
            _, problem = ALIAS.check(alias)
            if problem is None and (";" in alias or "；" in alias):
                problem = "别名中不能含有分号"
            if problem:
                raise ApiError(400, "invalid_input", f"提交的内容有误：{problem}", {"aliases": problem})
    values = {k: data[k] for k in ("name", "kind", "active") if k in body}
    if "parent_code" in body:
        values["parent_code"] = data["parent_code"] or ""
    if aliases is not None:
        values["aliases"] = aliases
    return values


@org_api_bp.get("/units")
@requires("case.view")
def list_units():
    """?format=flat (default: every unit with parent_code) or tree (nested children); q, kind, active=1|0."""
    fmt = request.args.get("format", "flat")
    if fmt not in ("flat", "tree"):
        raise ApiError(400, "invalid_input", "format 应为 flat 或 tree", {"format": "应为 flat 或 tree"})
    kind = request.args.get("kind", "")
    if kind and kind not in KIND_LABELS:
        raise ApiError(400, "invalid_input", f"kind 应为 {'、'.join(KIND_LABELS)} 之一", {"kind": "未知的单位类型"})
    active_arg = request.args.get("active", "")
    if active_arg not in ("", "1", "0", "true", "false"):
        raise ApiError(400, "invalid_input", "active 应为 1 或 0", {"active": "应为 1 或 0"})
    active = None if not active_arg else active_arg in ("1", "true")
    q = (request.args.get("q") or "").strip()[:50]
    rows = edit.listing(q, kind, active)
    return jsonify({"units": edit.tree(rows) if fmt == "tree" else rows, "count": len(rows)})


@org_api_bp.get("/units/<code>")
@requires("case.view")
def get_unit(code: str):
    unit = edit.get(code)
    return jsonify(edit.as_dict(unit, unit.parent.code if unit.parent else None))


@org_api_bp.post("/units")
@requires("org.admin")
def create_unit():
    body = json_body()
    values = _values(body, CREATE_SPEC)
    code = parse({"code": CREATE_SPEC["code"]}, body)["code"]
    unit = edit.save(code, values, create=True)
    answer = edit.as_dict(unit, unit.parent.code if unit.parent else None)
    db.session.commit()
    return jsonify(answer), 201


@org_api_bp.patch("/units/<code>")
@requires("org.admin")
def update_unit(code: str):
    unit = edit.save(code, _values(json_body(), SPEC), create=False)
    answer = edit.as_dict(unit, unit.parent.code if unit.parent else None)
    db.session.commit()
    return jsonify(answer)

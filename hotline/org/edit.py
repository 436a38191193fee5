"""One unit at a time (the admin API and pages) and the unit list/tree they show. A change goes through the same
checks as an import row (``units.apply``): superior's kind, cycles, re-pathing the subtree, retiring only without
open cases. Flushes; the view commits."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from hotline import audit
from hotline.cases.errors import Conflict, InvalidInput, NotFound
from hotline.extensions import db
from hotline.models import Department
from hotline.models.departments import KIND_LABELS
from hotline.org import units


def get(code: str) -> Department:
    unit = db.session.scalar(sa.select(Department).where(Department.code == code))
    if unit is None:
        raise NotFound("unit_not_found", f"单位 {code[:40]} 不存在")
    return unit


def save(code: str, values: dict, *, create: bool) -> Department:
    """Add (``create``) or change the unit ``code``. ``values``: name, kind, parent_code, aliases (list or
    ``;``-separated text), active — on a change, absent keys keep the stored value."""
    current = db.session.scalar(sa.select(Department).where(Department.code == code))
    if create and current is not None:
        raise Conflict("unit_exists", f"单位代码 {code} 已存在，请修改该单位而不是新增")
    if not create and current is None:
        raise NotFound("unit_not_found", f"单位 {code[:40]} 不存在")
    base = (
        {
            "name": current.name,
            "kind": current.kind,
            "parent_code": current.parent.code if current.parent else "",
            "aliases": list(current.aliases or ()),
            "active": current.active,
        }
        if current is not None
        else {"aliases": [], "active": True}
    )
    merged = base | {k: v for k, v in values.items() if v is not None}
    aliases = merged.get("aliases") or []
    row = {
        "line": 0,
        "code": code,
        "name": merged.get("name") or "",
        "kind": merged.get("kind") or "",
        "parent_code": merged.get("parent_code") or "",
        "aliases": aliases if isinstance(aliases, str) else ";".join(aliases),
        "active": "1" if merged.get("active", True) else "0",
    }
    report = units.apply([row])
    if report.errors:
        error = report.errors[0]
        if error.code == "open_cases":
            raise Conflict("unit_has_open_cases", error.reason)
        raise InvalidInput("invalid_unit", error.reason)
    saved = get(code)
    after = {k: row[k] for k in ("name", "kind", "parent_code")} | {
        "aliases": list(saved.aliases or ()),
        "active": saved.active,
    }
    audit.record(
        audit.current_actor(),
        "org.unit.create" if current is None else "org.unit.update",
        "unit",
        code,
        before=None if current is None else base,
        after=after,
    )
    return saved


def as_dict(unit: Department, parent_code: str | None) -> dict:
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "kind_label": KIND_LABELS.get(unit.kind, unit.kind),
        "parent_code": parent_code,
        "aliases": list(unit.aliases or ()),
        "active": unit.active,
        "path": unit.path,
        "depth": unit.path.count("/") - 2,
    }


def listing(q: str = "", kind: str = "", active: bool | None = None) -> list[dict]:
    """Units in tree order (by path) as dicts with ``parent_code``; ``q`` matches code, name or an alias."""
    parent = aliased(Department)
    query = sa.select(Department, parent.code).outerjoin(parent, parent.id == Department.parent_id)
    if kind:
        query = query.where(Department.kind == kind)
    if active is not None:
        query = query.where(Department.active.is_(active))
    out = [as_dict(unit, parent_code) for unit, parent_code in db.session.execute(query.order_by(Department.path))]
    if q:
        q = q.strip().lower()
        out = [u for u in out if q in u["code"].lower() or q in u["name"] or any(q in a for a in u["aliases"])]
    return out


def tree(rows: list[dict]) -> list[dict]:
    """Nest flat ``listing`` rows: each gets ``children``; rows whose superior is not among them are roots."""
    by_code = {r["code"]: {**r, "children": []} for r in rows}
    roots = []
    for node in by_code.values():
        parent = by_code.get(node["parent_code"]) if node["parent_code"] else None
        (parent["children"] if parent else roots).append(node)
    return roots


def counts() -> dict[str, int]:
    """Active units by kind."""
    query = sa.select(Department.kind, sa.func.count()).where(Department.active.is_(True)).group_by(Department.kind)
    return dict(db.session.execute(query).all())

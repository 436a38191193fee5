"""The unit tree (承办单位): check and apply unit rows — from an import file (``flask org import``, the admin
page's upload) or one unit at a time (the admin API and pages) — and export it.

A row is ``code,name,kind,parent_code,aliases`` (aliases separated by ``;``) and optionally ``active`` (1/0).
Applying is an upsert by code: a new code adds a unit, a known one is updated, a row equal to the stored unit
changes nothing. Every row is checked first (fields, superior unit and its kind, cycles, retiring a unit with open
cases or active sub-units); any bad row and nothing is written, unless ``partial`` (the good rows are applied, and
a row whose superior unit is bad counts as bad). When a unit moves, the materialised ``path`` of its whole subtree
is rewritten. Flushes and bumps the routing version (after commit every process reloads units and places); the
caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from hotline.cases.workflow import OPEN_STATES
from hotline.db.refcache import bump_version
from hotline.extensions import db
from hotline.models import Assignment, Case, Department
from hotline.models.cases import LIVE_ASSIGNMENT_SQL
from hotline.models.departments import KIND_LABELS, KINDS

COLUMNS = ("code", "name", "kind", "parent_code", "aliases", "active")
REQUIRED = ("code", "name", "kind", "parent_code")
# the kinds a unit's superior may be of (None: no superior)
PARENT_KINDS: dict[str, tuple[str | None, ...]] = {
    "city": (None,),
    "district": ("city",),
    "street": ("district",),
    "community": ("street",),
    "department": ("city", "district", "department"),
    "utility": ("city", "district"),
}
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_ALIAS_SPLIT = re.compile(r"[;；]")
_TRUE, _FALSE = {"1", "true", "yes", "y", "是", "启用"}, {"0", "false", "no", "n", "否", "停用"}
MAX_ALIASES = 20
PATH_MAX = 255
BATCH = 1000


@dataclass
class RowError:
    line: int
    reason: str
    code: str = "invalid"  # "open_cases" when a unit to retire still has open cases

    def __str__(self) -> str:
        return f"第 {self.line} 行：{self.reason}" if self.line else self.reason


@dataclass
class Report:
    total: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    repathed: int = 0  # units whose path changed because they or a superior moved
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False


@dataclass
class _Row:
    line: int
    code: str
    name: str
    kind: str
    parent: str | None
    aliases: list[str]
    active: bool | None  # None: keep (a new unit is active)


def split_aliases(raw: str) -> list[str]:
    return list(dict.fromkeys(a.strip() for a in _ALIAS_SPLIT.split(raw or "") if a.strip()))


def _parse(raw: dict) -> tuple[_Row | None, str | None]:
    code, name, kind = raw.get("code", "").strip(), raw.get("name", "").strip(), raw.get("kind", "").strip().lower()
    parent = raw.get("parent_code", "").strip() or None
    line = raw.get("line", 0)
    if not _CODE.fullmatch(code):
        return None, f"单位代码（code）「{code[:40]}」无效：应为 1–32 位字母、数字、-、_ 或 .，以字母或数字开头"
    if not 2 <= len(name) <= 100:
        return None, f"单位名称（name）应为 2–100 个字符（单位 {code}）"
    if kind not in KINDS:
        kinds = "、".join(f"{k}（{v}）" for k, v in KIND_LABELS.items())
        return None, f"单位类型（kind）应为 {kinds} 之一，而不是「{kind[:20]}」"
    aliases = split_aliases(raw.get("aliases", ""))
    bad = [a for a in aliases if not 2 <= len(a) <= 100]
    if bad or len(aliases) > MAX_ALIASES:
        return None, f"别名（aliases）每个应为 2–100 个字符、最多 {MAX_ALIASES} 个，用分号分隔"
    active_raw = str(raw.get("active", "")).strip().lower()
    if active_raw and active_raw not in _TRUE | _FALSE:
        return None, f"是否启用（active）应为 1 或 0，而不是「{active_raw[:10]}」"
    active = None if not active_raw else active_raw in _TRUE
    if parent == code:
        return None, f"上级单位（parent_code）不能是单位自己（{code}）"
    return _Row(line, code, name, kind, parent, aliases, active), None


def _stored() -> dict[str, dict]:
    table = Department.__table__
    return {r["code"]: dict(r) for r in db.session.execute(sa.select(table)).mappings()}


def open_case_count(unit_id: int) -> int:
    """Open cases the unit leads or holds a live task of (a retired unit may have none)."""
    live = (
        sa.select(Assignment.case_id)
        .where(Assignment.department_id == unit_id, sa.text(f"assignments.{LIVE_ASSIGNMENT_SQL}"))
        .scalar_subquery()
    )
    return db.session.scalar(
        sa.select(sa.func.count(Case.id)).where(
            Case.status.in_([s.value for s in OPEN_STATES]),
            sa.or_(Case.lead_department_id == unit_id, Case.id.in_(live)),
        )
    )


def _check(rows: list[_Row], stored: dict[str, dict], errors: dict[int, RowError]) -> dict[str, str]:
    """Mark bad rows in ``errors`` (by index) until no new one appears; return the final path of every unit."""
    while True:
        good = {r.code: r for i, r in enumerate(rows) if i not in errors}
        kind = {c: s["kind"] for c, s in stored.items()} | {c: r.kind for c, r in good.items()}
        ids = {s["id"]: c for c, s in stored.items()}
        parent = {c: ids.get(s["parent_id"]) for c, s in stored.items()} | {c: r.parent for c, r in good.items()}
        active = {c: s["active"] for c, s in stored.items()}
        active |= {
            c: (r.active if r.active is not None else stored.get(c, {}).get("active", True)) for c, r in good.items()
        }
        new = 0
        for i, r in enumerate(rows):
            if i in errors:
                continue
            reason = None
            if r.parent is not None and r.parent not in kind:
                bad_line = next((x.line for x in rows if x.code == r.parent), None)
                reason = (
                    f"上级单位 {r.parent} 所在的第 {bad_line} 行有错误"
                    if bad_line
                    else f"上级单位代码（parent_code）{r.parent} 不存在：既不在文件中，也不在系统中"
                )
            elif (kind.get(r.parent) if r.parent else None) not in PARENT_KINDS[r.kind]:
                reason = _parent_problem(r, kind.get(r.parent))
            elif active[r.code] and r.parent and not active.get(r.parent, True):
                reason = f"上级单位 {r.parent} 已停用：不能在停用的单位下启用 {r.code}"
            elif r.code in stored and stored[r.code]["kind"] != r.kind:
                reason = _orphans(r, kind, parent)
            if reason:
                errors[i] = RowError(r.line, reason)
                new += 1
        if new:
            continue  # the maps without those rows first: a bad row must not make a cycle of good ones
        paths, cyclic = _paths(parent)
        children: dict[str, list[str]] = {}
        if any(r.active is False for r in good.values()):
            for c, p in parent.items():
                if p is not None and active.get(c):
                    children.setdefault(p, []).append(c)
        for i, r in enumerate(rows):
            if i in errors:
                continue
            if r.code in cyclic:
                errors[i], new = RowError(r.line, f"上级单位形成循环（{r.code} 成了自己的下级）"), new + 1
            elif len(paths[r.code]) > PATH_MAX:
                errors[i], new = RowError(r.line, f"层级太深：单位路径超过 {PATH_MAX} 个字符"), new + 1
            elif r.active is False and stored.get(r.code, {}).get("active"):
                below = children.get(r.code, [])
                count = open_case_count(stored[r.code]["id"])
                if count:
                    message = (
                        f"单位 {r.code}（{r.name}）还有 {count} 件未办结的工单，不能停用：请先将这些工单改派给其他单位"
                    )
                    errors[i], new = RowError(r.line, message, "open_cases"), new + 1
                elif below:
                    shown = "、".join(below[:5]) + ("等" if len(below) > 5 else "")
                    message = f"单位 {r.code} 还有 {len(below)} 个启用中的下级单位（{shown}），请先停用或移走它们"
                    errors[i], new = RowError(r.line, message), new + 1
        if not new:
            return paths


def _orphans(r: _Row, kind: dict[str, str], parent: dict[str, str | None]) -> str | None:
    """Changing a unit's kind must leave each of its sub-units a superior of an allowed kind."""
    below = [c for c, p in parent.items() if p == r.code and r.kind not in PARENT_KINDS[kind[c]]]
    if not below:
        return None
    shown = "、".join(below[:5]) + ("等" if len(below) > 5 else "")
    return f"不能把 {r.code} 改为{KIND_LABELS[r.kind]}：它的下级单位（{shown}）不能隶属于{KIND_LABELS[r.kind]}"


def _parent_problem(r: _Row, parent_kind: str | None) -> str:
    label = f"{KIND_LABELS[r.kind]}「{r.name}」"
    if r.kind == "city":
        return f"{label}是最上级单位，上级单位代码（parent_code）应留空"
    allowed = "或".join(KIND_LABELS[k] for k in PARENT_KINDS[r.kind] if k)
    if r.parent is None:
        return f"{label}须填写上级单位代码（parent_code）：上级应为{allowed}"
    return f"{label}的上级应为{allowed}，而 {r.parent} 是{KIND_LABELS.get(parent_kind, parent_kind)}"


def _paths(parent: dict[str, str | None]) -> tuple[dict[str, str], set[str]]:
    paths: dict[str, str] = {}
    cyclic: set[str] = set()
    for start in parent:
        chain, code = [], start
        while code is not None and code not in paths and code not in chain and code in parent:
            chain.append(code)
            code = parent[code]
        if code is not None and code in chain:  # a loop: everything on it and below it
            cyclic.update(chain)
            for c in chain:
                paths[c] = ""
            continue
        base = paths.get(code, "/") if code is not None else "/"
        if code is not None and code in cyclic:
            cyclic.update(chain)
        for c in reversed(chain):
            base = paths[c] = f"{base}{c}/" if base else ""
    return paths, cyclic


def apply(raw_rows: list[dict], *, partial: bool = False, progress: Callable[[int, int], None] | None = None) -> Report:
    """Check every row, then (no bad row, or ``partial``) upsert the good ones and re-path moved subtrees."""
    report, rows, errors, seen = Report(total=len(raw_rows)), [], {}, {}
    for raw in raw_rows:
        row, problem = _parse(raw)
        if row is None:
            row = _Row(raw.get("line", 0), str(raw.get("code", "")).strip(), "", "city", None, [], None)
            errors[len(rows)] = RowError(raw.get("line", 0), problem)
        elif row.code in seen:
            errors[len(rows)] = RowError(row.line, f"单位代码 {row.code} 与第 {seen[row.code]} 行重复")
            row.code = ""
        else:
            seen[row.code] = row.line
        rows.append(row)
    stored = _stored()
    paths = _check(rows, stored, errors)
    report.errors = sorted(errors.values(), key=lambda e: e.line)
    if errors and not partial:
        return report
    good = [r for i, r in enumerate(rows) if i not in errors]
    _write(good, stored, paths, report, progress)
    report.applied = True
    return report


def _write(good: list[_Row], stored: dict, paths: dict[str, str], report: Report, progress) -> None:
    table = Department.__table__
    ids = {c: s["id"] for c, s in stored.items()}
    by_code = {r.code: r for r in good}
    done, total = 0, len(good)
    # new units, superiors first (by depth), so each batch knows its parents' ids
    pending = sorted((r for r in good if r.code not in stored), key=lambda r: paths[r.code].count("/"))
    while pending:
        ready = [r for r in pending[:BATCH] if r.parent is None or r.parent in ids]
        if not ready:  # cannot happen after _check: every superior is stored or an earlier (shallower) row
            raise RuntimeError("unit rows out of order")
        db.session.execute(
            sa.insert(table),
            [
                {
                    "code": r.code,
                    "name": r.name,
                    "kind": r.kind,
                    "parent_id": ids.get(r.parent) if r.parent else None,
                    "path": paths[r.code],
                    "active": True if r.active is None else r.active,
                    "aliases": r.aliases,
                }
                for r in ready
            ],
        )
        codes = {r.code for r in ready}
        query = sa.select(table.c.code, table.c.id).where(table.c.code.in_(codes))
        ids.update(dict(db.session.execute(query).all()))
        pending = [r for r in pending if r.code not in codes]
        report.added += len(ready)
        done += len(ready)
        if progress:
            progress(done, total)
    changes = []
    for code, s in stored.items():
        r = by_code.get(code)
        if r is None:
            if paths.get(code) and paths[code] != s["path"]:
                changes.append({"id": s["id"], "path": paths[code]})
                report.repathed += 1
            continue
        new = {
            "name": r.name,
            "kind": r.kind,
            "parent_id": ids.get(r.parent) if r.parent else None,
            "path": paths[code],
            "active": s["active"] if r.active is None else r.active,
            "aliases": r.aliases,
        }
        old = {k: (list(s[k] or ()) if k == "aliases" else s[k]) for k in new}
        if new == old:
            report.unchanged += 1
        else:
            changes.append({"id": s["id"], **new})
            report.updated += 1
            report.retired += int(s["active"] and not new["active"])
            report.repathed += int(new["path"] != s["path"])
        done += 1
        if progress and done % BATCH == 0:
            progress(done, total)
    groups: dict[tuple, list[dict]] = {}
    for change in changes:  # executemany per set of changed columns
        groups.setdefault(tuple(sorted(change)), []).append({f"_{k}": v for k, v in change.items()})
    for keys, params in groups.items():
        statement = sa.update(table).where(table.c.id == sa.bindparam("_id"))
        statement = statement.values({k: sa.bindparam(f"_{k}") for k in keys if k != "id"})
        for start in range(0, len(params), BATCH):
            db.session.execute(statement, params[start : start + BATCH])
    if progress and total:
        progress(total, total)
    if report.added or changes:
        db.session.expire_all()  # Department objects loaded before see the new rows
        bump_version()


def export_rows(include_retired: bool = True) -> list[list]:
    """Every unit in the import format (plus ``active``), superiors before their sub-units."""
    table, parent = Department.__table__, Department.__table__.alias("parent")
    query = sa.select(table.c.code, table.c.name, table.c.kind, parent.c.code, table.c.aliases, table.c.active)
    query = query.outerjoin(parent, parent.c.id == table.c.parent_id).order_by(table.c.path)
    if not include_retired:
        query = query.where(table.c.active.is_(True))
    return [
        [code, name, kind, parent_code or "", ";".join(aliases or ()), 1 if active else 0]
        for code, name, kind, parent_code, aliases, active in db.session.execute(query)
    ]

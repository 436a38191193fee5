"""The app's side of routing/: load the model once per process, build the gazetteer, mapping and override
rules from the database, call the pure engine, and route a new case (store the suggestions, auto-dispatch
a confident one).

Per-process caches: the model by its file's mtime; the gazetteer, mapping and rules by a version counter in
Redis (``bump_version`` after an admin edit, after commit), so every web process and worker sees a change
at its next request.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, g

from hotline.db.dialect import insert_ignore
from hotline.db.transactions import after_commit
from hotline.extensions import connect_redis, db
from hotline.models import Case, CaseRouting, Category, Department, RoutingRule
from routing.engine import suggest
from routing.gazetteer import Gazetteer
from routing.model import Model, ModelError, model_path
from routing.rules import Rule, RuleError

VERSION_KEY = "hotline:routing:version"

_lock = threading.Lock()
_model_cache: dict[str, tuple[float, Model]] = {}
_tables_cache: dict[str, tuple[str, RoutingTables]] = {}


@dataclass(frozen=True)
class RoutingTables:
    gazetteer: Gazetteer
    mapping: dict[str, tuple[str | None, bool]]
    rules: tuple[Rule, ...]
    departments: dict[str, int]  # code -> id (active units)
    areas: dict[int, tuple[int, ...]]  # district id -> its own and its streets' ids (the duplicate check's place)
    district_codes: tuple[str, ...]


def load_model() -> Model | None:
    """The trained model of the instance, reloaded only when its file changes; None when there is none."""
    instance = current_app.config["HOTLINE"].instance
    path = model_path(instance)
    if not path.exists():
        return None
    mtime = path.stat().st_mtime
    with _lock:
        hit = _model_cache.get(str(path))
        if hit and hit[0] == mtime:
            return hit[1]
        try:
            model = Model.load(path, trusted_dir=instance)
        except ModelError:
            current_app.logger.exception("routing model at %s could not be loaded", path)
            return None
        _model_cache[str(path)] = (mtime, model)
        return model


def _gazetteer() -> Gazetteer:
    from hotline.seed.city import AREAS

    units = db.session.execute(
        sa.select(Department.code, Department.name, Department.parent_id, Department.id, Department.kind)
    ).all()
    code_by_id = {u.id: u.code for u in units}
    local = {u.code: u for u in units if u.kind in ("district", "street")}
    areas = {code: [u.name, *AREAS.get(code, [])] for code, u in local.items()}
    return Gazetteer(
        areas, {c: u.name for c, u in local.items()}, {c: code_by_id.get(u.parent_id) for c, u in local.items()}
    )


def _areas() -> tuple[dict[int, tuple[int, ...]], tuple[str, ...]]:
    rows = db.session.execute(
        sa.select(Department.id, Department.code, Department.kind, Department.parent_id).where(
            Department.kind.in_(("district", "street"))
        )
    ).all()
    districts = {r.id: r.code for r in rows if r.kind == "district"}
    areas: dict[int, list[int]] = {i: [i] for i in districts}
    for r in rows:
        if r.kind == "street" and r.parent_id in areas:
            areas[r.parent_id].append(r.id)
    return {i: tuple(ids) for i, ids in areas.items()}, tuple(sorted(districts.values()))


def _mapping() -> dict[str, tuple[str | None, bool]]:
    rows = db.session.execute(
        sa.select(Category.name, Department.code, Category.local)
        .outerjoin(Department, Department.id == Category.department_id)
        .where(Category.level == 1)
    ).all()
    return {name: (code, bool(local)) for name, code, local in rows}


def rule_of(row: RoutingRule) -> Rule:
    """The pure rule of a stored row (raises RuleError for an unusable one)."""
    return Rule(
        id=row.id,
        priority=row.priority,
        keyword=row.keyword,
        regex=row.regex,
        category=row.category,
        area=row.area.code if row.area else None,
        department_code=row.department.code,
        note=row.note or "",
    )


def _rules() -> tuple[Rule, ...]:
    out = []
    for row in db.session.scalars(sa.select(RoutingRule).where(RoutingRule.enabled.is_(True))):
        try:
            out.append(rule_of(row))
        except RuleError:
            current_app.logger.warning("routing rule %s skipped: unusable", row.id)
    return tuple(out)


def current_version() -> str:
    """The routing version every process compares its cached tables with ('' when Redis is unavailable)."""
    return _version()


def _version() -> str:
    """The counter in Redis plus the current period of ``refcache_max_age`` seconds: a bump lost after its
    commit (Redis unavailable at that moment) or a counter lost with Redis's data leaves caches stale for at
    most that long, since every process rebuilds when the period changes."""
    settings = current_app.config["HOTLINE"]
    try:
        counter = (connect_redis(settings).get(VERSION_KEY) or b"0").decode()
    except Exception:  # Redis down: rebuild every time rather than serve stale tables
        current_app.logger.warning("routing version unavailable; rebuilding the routing tables")
        return ""
    return f"{counter}.{int(time.time() // max(1, settings.refcache_max_age))}"


def bump_version() -> None:
    """Call when rules, the category mapping or units change: every process rebuilds after commit."""
    after_commit(lambda: connect_redis(current_app.config["HOTLINE"]).incr(VERSION_KEY))


def tables() -> RoutingTables:
    """The routing tables, checked against the version once per request or job (``g``), rebuilt on a change."""
    memo = g.get("routing_tables")
    if memo is None:
        memo = g.routing_tables = _tables()
    return memo


def _tables() -> RoutingTables:
    version = _version()
    key = current_app.config["HOTLINE"].database_url
    hit = _tables_cache.get(key)
    if version and hit and hit[0] == version:
        return hit[1]
    departments = dict(
        db.session.execute(sa.select(Department.code, Department.id).where(Department.active.is_(True))).all()
    )
    built = RoutingTables(_gazetteer(), _mapping(), _rules(), departments, *_areas())
    if version:
        _tables_cache[key] = (version, built)
    return built


def suggest_for(text: str, address: str | None = None):
    """The engine's Suggestion for a text (and address) with this app's model, tables and threshold."""
    settings = current_app.config["HOTLINE"]
    t = tables()
    return suggest(
        text,
        address,
        model=load_model(),
        mapping=t.mapping,
        gazetteer=t.gazetteer,
        rules=t.rules,
        threshold=settings.auto_dispatch_threshold,
    )


def _address_of(case: Case) -> str | None:
    """The chosen district/street name in front of the typed address, so the gazetteer sees both."""
    parts = [case.district.name if case.district else "", case.address or ""]
    return "".join(parts) or None


@dataclass
class RoutingPlan:
    """What the router found for a case, computed with reads only (see ``plan_routing``)."""

    content: str  # the text and place it was computed for: a plan for an edited case is redone
    district_id: int | None
    result: object  # routing.engine.Suggestion
    place_id: int | None  # the unit the gazetteer found for a case registered without a place
    duplicates: list


def plan_routing(case: Case, now: datetime, peers: tuple = ()) -> RoutingPlan:
    """Suggestions, the place and likely duplicates of a registered case. Reads only, so on SQLite the job
    runs it in a read transaction that does not hold the write lock registrations wait for; ``peers``: (case,
    unit) planned before it in that transaction, whose duplicate-check keys are not stored yet."""
    from hotline.dispatch.duplicates import find

    units = tables().departments
    result = suggest_for(case.content, _address_of(case))
    unit, place_id = case.district, None
    if unit is None and result.place is not None:
        code = result.place.street_code or result.place.district_code
        if code in units:
            place_id = units[code]
            unit = db.session.get(Department, place_id)
    duplicates = find(case.content, unit, now, exclude_id=case.id, peers=peers)
    return RoutingPlan(case.content, case.district_id, result, place_id, duplicates)


def route_new_case(case: Case, now: datetime, plan: RoutingPlan | None = None) -> CaseRouting:
    """Run the router on a registered case (the routing job, a moment after registration): store its
    suggestions and likely duplicates, fill in the place the gazetteer found, and — with auto-dispatch on —
    dispatch a confident case that is still waiting for a dispatcher to the suggested unit. ``plan``: computed
    beforehand by ``plan_routing`` (redone if the case's text or place changed since)."""
    from hotline.cases import operations as ops
    from hotline.dispatch.duplicates import remember

    settings = current_app.config["HOTLINE"]
    units = tables().departments
    if plan is None or (plan.content, plan.district_id) != (case.content, case.district_id):
        db.session.flush()
        plan = plan_routing(case, now)
    result, duplicates = plan.result, plan.duplicates
    if plan.place_id is not None and case.district is None:
        _fill_place(case, plan.place_id)
    remember(case)  # its duplicate-check keys, after its own look-up
    routing = db.session.get(CaseRouting, case.id)  # an emergency transfer may have come first
    if routing is None:  # a transfer inserting it at this moment: the batch is redone case by case
        routing = CaseRouting(case_id=case.id, created_at=now)
        db.session.add(routing)
    routing.suggestions, routing.auto, routing.emergency = result.suggestions, result.auto, result.emergency
    routing.out_of_scope, routing.duplicates, routing.note = result.out_of_scope, duplicates, result.note
    if not _auto_dispatch(case, result, duplicates, settings):
        ops.publish_update(case, "route")  # the dispatchers' workbench shows the suggestions
        return routing
    top = result.suggestions[0]
    if case.category is None:
        case.category = db.session.scalar(
            sa.select(Category).where(Category.level == 1, Category.name == top["category"])
        )
    note = f"自动派单：{top['category']}，置信度 {top['score']:.2f}"
    if result.rule_id is not None:
        note += f"（命中规则 {result.rule_id}）"
    ops.dispatch(case, db.session.get(Department, units[top["department_code"]]), None, now, note=note, auto=True)
    return routing


def routing_row(case_id: int, now: datetime) -> CaseRouting:
    """The case's routing row, created if missing with INSERT … ON CONFLICT DO NOTHING: an agent's emergency
    transfer may create it while the routing job is creating it (on PostgreSQL the transfer's insert waits for
    the job's transaction and then does nothing, instead of failing on the primary key). The job itself adds
    the row through the ORM (batched with its other inserts); if a transfer committed one first, its batch
    fails on the key and is routed again case by case, finding the row."""
    routing = db.session.get(CaseRouting, case_id)
    if routing is None:
        db.session.execute(
            insert_ignore(CaseRouting.__table__, ["case_id"]).values(
                case_id=case_id, suggestions=[], auto=False, duplicates=[], note="", created_at=now
            )
        )
        routing = db.session.get(CaseRouting, case_id)
    return routing


def _fill_place(case: Case, unit_id: int) -> None:
    """Store the place the gazetteer found without bumping the case's version: the agent who registered the
    case a moment ago still holds a valid version (routing is nobody's edit), and an agent's own choice of
    place, saved before or after, wins."""
    table = Case.__table__
    filled = db.session.execute(
        sa.update(table).where(table.c.id == case.id, table.c.district_id.is_(None)).values(district_id=unit_id)
    ).rowcount
    if filled:
        so.attributes.set_committed_value(case, "district_id", unit_id)
        so.attributes.set_committed_value(case, "district", db.session.get(Department, unit_id))
    else:
        db.session.expire(case, ["district_id", "district"])


def _auto_dispatch(case: Case, result, duplicates: list, settings) -> bool:
    """Dispatch without a dispatcher only when switched on, confident, not a likely duplicate, not an
    emergency, still waiting (nobody dispatched, answered or closed it meanwhile), and the agent's category
    (if any) agrees unless a rule decided."""
    if not (settings.auto_dispatch and result.auto and not duplicates and case.urgency != "emergency"):
        return False
    if case.status != "registered":
        return False
    top = result.suggestions[0]
    if case.category is not None and case.category.level1 != top["category"] and result.rule_id is None:
        return False
    return top["department_code"] in tables().departments

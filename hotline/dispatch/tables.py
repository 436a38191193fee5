"""The routing tables of this process: the trained model (reloaded when its file changes) and the gazetteer,
category mapping, override rules and places built from the database, cached per process and rebuilt when the
routing version in Redis changes (``hotline.db.refcache.bump_version`` after an admin edit, after commit), so
every web process and worker sees a change at its next request. The gazetteer is built from the units and the
``places`` table (through the refcache), never from seed data: each city has its own places.

Read by the router (``service``) and the duplicate check (``duplicates``); imports neither.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, g

from hotline.db import refcache
from hotline.db.refcache import current_version
from hotline.dispatch import model_store
from hotline.extensions import db
from hotline.models import Category, Department, KbEntry, RoutingRule
from routing.fine import FineRouter
from routing.gazetteer import Gazetteer
from routing.model import Model, ModelError, model_path
from routing.rules import Rule, RuleError

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
    fine: FineRouter | None = None  # level-3/level-2 category and unit: category map, lexicon, KB (routing/fine.py)


def load_model() -> Model | None:
    """The trained model of the instance, reloaded only when its file changes (``model_store.sync`` replaces the
    file when a host published a newer one); None when there is none."""
    instance = current_app.config["HOTLINE"].instance
    path = model_path(instance)
    model_store.sync(path)  # the newest model another host trained, at most every 30 s
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


def _gazetteer(version: str) -> Gazetteer:
    """Active districts and streets with their names and aliases; each active community (社区/村) unit's name and
    aliases count for its street, and each active place of the ``places`` table for its unit's nearest district or
    street. Retired units and their places locate nothing (their cases keep their history)."""
    units = db.session.execute(
        sa.select(
            Department.code, Department.name, Department.parent_id, Department.id, Department.kind, Department.aliases
        ).where(Department.active.is_(True))
    ).all()
    by_id = {u.id: u for u in units}
    by_code = {u.code: u for u in units}
    local = {u.code: u for u in units if u.kind in ("district", "street")}
    areas: dict[str, list[str]] = {code: [u.name, *(u.aliases or ())] for code, u in local.items()}

    def area_of(unit):
        hops = 0
        while unit is not None and unit.code not in local and hops < 16:
            unit, hops = by_id.get(unit.parent_id), hops + 1
        return unit.code if unit is not None and unit.code in local else None

    for unit in units:
        if unit.kind == "community" and (code := area_of(unit)) is not None:
            areas[code] += [unit.name, *(unit.aliases or ())]
    for place in refcache.places(version):
        if (code := area_of(by_code.get(place.unit))) is not None:
            areas[code] += [place.name, *place.aliases]
    parents = {c: by_id[u.parent_id].code if u.parent_id in by_id else None for c, u in local.items()}
    return Gazetteer(areas, {c: u.name for c, u in local.items()}, parents)


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


def _fine() -> FineRouter:
    """The fine-grained router: every category's unit and 属地 flag, the enabled lexicon rows, and the tags (and
    short titles) of published KB entries that name both a unit and a category."""
    from hotline.dispatch.lexicon import enabled_words

    rows = db.session.execute(
        sa.select(Category.path, Department.code, Category.local).outerjoin(
            Department, Department.id == Category.department_id
        )
    ).all()
    categories = {path: (code, bool(local)) for path, code, local in rows}
    kb = []
    for path, code, title, tags in db.session.execute(
        sa.select(Category.path, Department.code, KbEntry.title, KbEntry.tags)
        .join(Category, Category.id == KbEntry.category_id)
        .join(Department, Department.id == KbEntry.department_id)
        .where(KbEntry.status == "published")
    ):
        words = [t for t in (tags or ()) if isinstance(t, str)]
        if title and len(title) <= 8:
            words.append(title)
        kb.append((path, code, words))
    return FineRouter(categories, enabled_words(), kb)


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


def tables() -> RoutingTables:
    """The routing tables, checked against the version once per request or job (``g``), rebuilt on a change."""
    memo = g.get("routing_tables")
    if memo is None:
        memo = g.routing_tables = _tables()
    return memo


def _tables() -> RoutingTables:
    version = current_version()
    key = current_app.config["HOTLINE"].database_url
    hit = _tables_cache.get(key)
    if version and hit and hit[0] == version:
        return hit[1]
    departments = dict(
        db.session.execute(sa.select(Department.code, Department.id).where(Department.active.is_(True))).all()
    )
    built = RoutingTables(_gazetteer(version), _mapping(), _rules(), departments, *_areas(), fine=_fine())
    if version:
        _tables_cache[key] = (version, built)
    return built

"""The app's side of routing/: call the pure engine with this process's routing tables (``tables.py``: the
model, gazetteer, mapping and override rules, cached per process by the routing version) and route a new case
(store the suggestions and likely duplicates, auto-dispatch a confident one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from hotline.cases import operations as ops
from hotline.cases.workflow import CaseState
from hotline.db.dialect import insert_ignore
from hotline.dispatch.duplicates import find, remember
from hotline.dispatch.tables import load_model, tables
from hotline.extensions import db
from hotline.models import Case, CaseRouting, Category, Department
from routing.engine import suggest


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
        fine=t.fine if settings.fine_routing else None,
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
    if case.status != CaseState.REGISTERED:
        return False
    top = result.suggestions[0]
    if case.category is not None and case.category.level1 != top["category"] and result.rule_id is None:
        return False
    return top["department_code"] in tables().departments

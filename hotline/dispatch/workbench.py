"""The dispatcher's workbench data: cases waiting for dispatch (new, reopened, and returned cases whose
return was accepted without a new unit — none today) with the router's stored suggestions, the return
queue, and the per-unit return counts. Used by the /dispatch page and GET /api/v1/routing/queue."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.cases.forms import suggested_department
from hotline.cases.workflow import AssignmentState, CaseState
from hotline.dispatch.operations import return_counts
from hotline.extensions import db
from hotline.models import Case, CaseRouting, Category, Department

QUEUE_LIMIT = 200
URGENCY_ORDER = sa.case({"emergency": 0, "urgent": 1}, value=Case.urgency, else_=2)


@dataclass
class Row:
    case: Case
    suggestions: list[dict]  # [{category, department_code, score, department}] top-3
    duplicates: list[dict] = field(default_factory=list)
    emergency: str | None = None
    out_of_scope: dict | None = None
    returned_by: object | None = None  # the returning assignment (return queue)


@dataclass
class Queue:
    waiting: list[Row]
    returned: list[Row]
    totals: dict[str, int]
    returns: list[dict]
    unit_codes: dict[str, str] = field(default_factory=dict)  # unit id (as in select options) -> code

    def to_dict(self) -> dict:
        def row(r: Row) -> dict:
            out = {
                "number": r.case.number,
                "title": r.case.title,
                "status": r.case.status,
                "urgency": r.case.urgency,
                "version": r.case.version,
                "category": r.case.category.level1 if r.case.category else None,
                "district_code": r.case.district.code if r.case.district else None,
                "suggestions": [{k: s[k] for k in ("category", "department_code", "score")} for s in r.suggestions],
                "duplicates": r.duplicates,
                "emergency": r.emergency,
                "out_of_scope": r.out_of_scope,
            }
            if r.returned_by is not None:
                out["returned_by"] = r.returned_by.department.code
                out["return_reason"] = r.returned_by.return_reason
            return out

        return {
            "waiting": [row(r) for r in self.waiting],
            "returned": [row(r) for r in self.returned],
            "totals": self.totals,
            "returns": self.returns,
        }


def _suggestions(case: Case, stored: CaseRouting | None, units: dict[str, Department]) -> list[dict]:
    """Top-3: the agent's chosen category first (its unit, 属地 → the case's place), then the router's."""
    out = []
    chosen = suggested_department(case) if case.category is not None else None
    if chosen is not None:
        out.append(
            {
                "category": case.category.level1,
                "department_code": chosen.code,
                "score": None,
                "department": chosen,
                "chosen": True,
            }
        )
    for s in stored.suggestions if stored else []:
        unit = units.get(s.get("department_code"))
        if unit is not None and unit.active and all(o["department_code"] != unit.code for o in out):
            out.append({**s, "department": unit})
    return out[:3]


def queue(limit: int = QUEUE_LIMIT, visible=None) -> Queue:
    """``visible``: a SQL condition on Case limiting the queue (a sub-centre's dispatchers see their district's)."""
    load = (so.selectinload(Case.category).selectinload(Category.department), so.selectinload(Case.district))
    visible = sa.true() if visible is None else visible
    waiting_q = sa.select(Case).where(Case.status.in_((CaseState.REGISTERED.value, CaseState.REOPENED.value)), visible)
    returned_q = sa.select(Case).where(Case.status == CaseState.RETURNED.value, visible)
    waiting = db.session.scalars(waiting_q.options(*load).order_by(URGENCY_ORDER, Case.created_at).limit(limit)).all()
    returned = db.session.scalars(returned_q.options(*load).order_by(URGENCY_ORDER, Case.updated_at).limit(limit)).all()
    ids = [c.id for c in (*waiting, *returned)]
    stored = (
        {r.case_id: r for r in db.session.scalars(sa.select(CaseRouting).where(CaseRouting.case_id.in_(ids)))}
        if ids
        else {}
    )
    codes = {s.get("department_code") for r in stored.values() for s in (r.suggestions or [])[:3]}
    units = (
        {d.code: d for d in db.session.scalars(sa.select(Department).where(Department.code.in_(codes)))}
        if codes
        else {}
    )

    def row(c: Case, returned_by=None) -> Row:
        r = stored.get(c.id)
        return Row(
            c,
            _suggestions(c, r, units),
            (r.duplicates or []) if r else [],
            r.emergency if r else None,
            r.out_of_scope if r else None,
            returned_by,
        )

    totals = {
        name: db.session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
        for name, q in (("waiting", waiting_q), ("returned", returned_q))
    }
    codes = {str(i): code for i, code in db.session.execute(sa.select(Department.id, Department.code))}
    return Queue(
        [row(c) for c in waiting],
        [
            row(c, next((a for a in reversed(c.assignments) if a.status == AssignmentState.RETURNED), None))
            for c in returned
        ],
        totals,
        return_counts(),
        codes,
    )

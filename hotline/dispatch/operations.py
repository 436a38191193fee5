"""Dispatch operations beyond the first dispatch: a district's second-level dispatch to one of its streets
(二次派单), the transfer of an emergency to 110/119/120/122, and the per-unit return counts.

Like operations.py: change data, write a CaseEvent, publish after commit, flush (never commit).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from hotline.cases.errors import NotAllowed, RuleRefused
from hotline.cases.operations import _assign
from hotline.cases.timeline import publish_update, record
from hotline.cases.workflow import AssignmentState, CaseState, state_label, transition
from hotline.channels.notify import notify_department
from hotline.dispatch.service import routing_row  # dispatch depends on cases, never the reverse
from hotline.extensions import db
from hotline.linkage.handoff import queue_handoff
from hotline.models import Assignment, Case, CaseEvent, Category, Department, User
from hotline.sla import timers

EMERGENCY_LINES = {"110": "转警（110）", "119": "转119（消防）", "120": "转120（急救）", "122": "转122（交警）"}


def subdispatch(case: Case, actor: User, street: Department, note: str, now: datetime) -> Assignment:
    """The actor's district hands its lead assignment on to one of its own streets."""
    unit = actor.department
    if unit is None or unit.kind != "district":
        raise NotAllowed("只有区县承办人员可以二次派单给所属街道")
    if street.kind != "street" or street.parent_id != unit.id:
        raise RuleRefused("not_a_sub_unit", f"{street.name}不是{unit.name}下属的街道/镇，不能二次派单")
    mine = next(
        (
            a
            for a in reversed(case.assignments)
            if a.department_id == unit.id
            and a.role == "lead"
            and a.status in (AssignmentState.PENDING, AssignmentState.SIGNED)
        ),
        None,
    )
    if mine is None:
        raise RuleRefused(
            "no_assignment",
            f"工单当前状态为「{state_label(case.status)}」，没有由{unit.name}主办的待办任务，不能二次派单",
        )
    before, after = transition(case, "subdispatch")
    mine.status = AssignmentState.DELEGATED.value
    timers.rearm(mine)  # the district's clock stops; the street's own deadlines start now
    assignment = _assign(case, street, "lead", actor, now, parent=mine)
    record(
        case,
        "subdispatch",
        actor,
        before,
        after,
        note=note,
        department=street,
        data={"from_department": unit.code, "role": "lead"},
    )
    notify_department(street.id, f"{unit.name}将工单 {case.number} 派至{street.name}，请及时签收", case.id)
    publish_update(case, "subdispatch")
    return assignment


def reclassify(case: Case, actor: User, category: Category, now: datetime) -> bool:
    """The dispatcher corrects the category (the final category teaches the router's retraining)."""
    if case.status in (CaseState.CLOSED, CaseState.MERGED):
        raise RuleRefused("case_finished", f"工单已{state_label(case.status)}，不能更正分类")
    if case.category_id == category.id:
        return False
    old = case.category.path if case.category else "未分类"
    case.category = category
    record(
        case,
        "reclassify",
        actor,
        case.status,
        case.status,
        note=f"分类更正：{old} → {category.path}",
        data={"from": old, "to": category.path},
    )
    publish_update(case, "reclassify")
    return True


def transfer_emergency(case: Case, actor: User, number: str, note: str, now: datetime) -> None:
    """One-click transfer of an emergency: the case is closed on the hotline's side with the transfer
    recorded (event + ``case_routing.transferred_to``)."""
    if number not in EMERGENCY_LINES:
        raise RuleRefused("unknown_line", "只能转接 110、119、120 或 122")
    before, after = transition(case, "transfer")
    case.closed_at = now
    routing_row(case.id, now).transferred_to = number  # the routing job may be creating the same row
    label = EMERGENCY_LINES[number]
    # the real hand-off (issue 21): signed request to the line's linkage endpoint / the call platform's transfer
    handed = queue_handoff(case, number, note, now)
    record(
        case,
        "transfer",
        actor,
        before,
        after,
        note=f"{label}{'：' + note if note else ''}",
        data={"number": number, "handoff": handed, "urgency": case.urgency},  # raised to 紧急 by the hand-off
    )
    publish_update(case, "transfer")


def return_counts(since: datetime | None = None) -> list[dict]:
    """Per unit: returns asked for, returns rejected as improper (驳回 = 不当退回), improper rate."""
    ev = CaseEvent
    conds = [ev.action.in_(("return", "reject_return")), ev.department_id.is_not(None)]
    if since is not None:
        conds.append(ev.created_at >= since)
    rows = db.session.execute(
        sa.select(
            Department.code,
            Department.name,
            sa.func.sum(sa.case((ev.action == "return", 1), else_=0)).label("returns"),
            sa.func.sum(sa.case((ev.action == "reject_return", 1), else_=0)).label("improper"),
        )
        .join(Department, Department.id == ev.department_id)
        .where(*conds)
        .group_by(Department.code, Department.name)
    ).all()
    out = [
        {
            "department_code": r.code,
            "department_name": r.name,
            "returns": int(r.returns or 0),
            "improper_returns": int(r.improper or 0),
            "improper_rate": round(int(r.improper or 0) / int(r.returns), 4) if r.returns else 0.0,
        }
        for r in rows
    ]
    out.sort(key=lambda r: (-r["improper_returns"], -r["returns"], r["department_code"]))
    return out

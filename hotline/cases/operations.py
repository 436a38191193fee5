"""Case operations: change data, write a CaseEvent, publish after commit, flush (never commit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from hotline.auth.roles import Role
from hotline.cases import assignments
from hotline.cases.citizens import move_citizens
from hotline.cases.errors import NotAllowed, RuleRefused
from hotline.cases.numbers import next_number
from hotline.cases.timeline import label_of as _label
from hotline.cases.timeline import publish_update, record
from hotline.cases.workflow import ACTION_LABELS, AssignmentState, CaseState, next_state, state_label, transition
from hotline.channels import notices as citizen_notices
from hotline.channels.notify import notify_department, notify_role
from hotline.citizens.phones import Phone
from hotline.citizens.profile import get_or_create
from hotline.db.insert import insert_loaded_pair
from hotline.db.transactions import after_commit
from hotline.extensions import db
from hotline.jobs import wake_router
from hotline.kb.entries import cite
from hotline.models import Assignment, Case, CaseEvent, Category, CitizenPhone, Department, KbEntry, User
from hotline.models.cases import CHANNELS
from hotline.ratings.invitations import invite_after_reply
from hotline.realtime.publish import publish
from hotline.sla import timers


@dataclass
class NewCase:
    channel: str
    kind: str
    content: str
    phone: Phone | None  # None when ``phone_row`` (a channel identity, e.g. WeChat) is given
    citizen_name: str | None = None
    title: str = ""
    address: str = ""
    district: Department | None = None
    urgency: str = "normal"
    category: Category | None = None
    call_id: str | None = None
    confidential: bool | None = None
    phone_row: CitizenPhone | None = None  # an existing identity row (hotline/citizens/identities.py)


def create_case(data: NewCase, actor: User | None, now: datetime, actor_label: str | None = None) -> Case:
    """Register a case: the case row and its first timeline event in one statement on PostgreSQL (the intake's
    hot path skips the ORM's unit of work: ``hotline.db.insert``); routing follows in a job after the commit."""
    phone_row = data.phone_row or get_or_create(data.phone, data.citizen_name, now)
    confidential = data.kind == "report" if data.confidential is None else data.confidential
    case, event = insert_loaded_pair(
        Case(
            number=next_number(now),
            kind=data.kind,
            channel=data.channel,
            urgency=data.urgency,
            status=CaseState.REGISTERED.value,
            title=data.title or data.content[:30],
            content=data.content,
            address=data.address,
            confidential=confidential,
            call_id=data.call_id,
            created_at=now,
            updated_at=now,
            routing_pending=True,
        ),  # the routing job: suggestions, duplicates, auto-dispatch
        CaseEvent(
            action="create",
            from_status=None,
            to_status=CaseState.REGISTERED.value,
            actor_label=actor_label or _label(actor),
            note=f"{CHANNELS.get(data.channel, data.channel)}受理",
            data={"channel": data.channel},
            created_at=now,
        ),
        "case",
        parent_related={
            "citizen": phone_row.citizen,
            "phone": phone_row,
            "district": data.district,
            "category": data.category,
            "created_by": actor,
            "lead_department": None,
            "assignments": [],
            "events": [],
        },
        child_related={"actor": actor, "department": None},
    )
    set_committed_value(case, "events", [event])
    publish(
        "case.created",
        {
            "number": case.number,
            "status": case.status,
            "kind": case.kind,
            "urgency": case.urgency,
            "department_code": None,
            "created_at": now.isoformat(),
            "version": case.version,
            "cursor": event.id,
        },
        ["role:agent", "role:dispatcher", "role:monitor"],
    )
    after_commit(wake_router)  # the routing job runs right after the commit
    return case


def _assign(
    case: Case, department: Department, role: str, actor: User | None, now: datetime, parent: Assignment | None = None
) -> Assignment:
    with assignments.stored_once(department):  # a concurrent live one of the same unit and role: already_assigned
        assignment = Assignment(
            case=case,
            department=department,
            role=role,
            status=AssignmentState.PENDING.value,
            parent_id=parent.id if parent else None,
            assigned_by_id=actor.id if actor else None,
            assigned_at=now,
        )
        db.session.add(assignment)
        if role == "lead":
            case.lead_department = department
        timers.plan(assignment)  # deadlines, yellow instants, next_card_at; the lead's are copied to the case
    return assignment


def dispatch(
    case: Case,
    department: Department,
    actor: User | None,
    now: datetime,
    *,
    role: str = "lead",
    note: str = "",
    auto: bool = False,
) -> Assignment:
    if role == "assist":
        if case.status not in (CaseState.DISPATCHED, CaseState.HANDLING):
            raise RuleRefused(
                "invalid_transition", f"工单当前状态为「{state_label(case.status)}」，请先派出主办单位，再添加协办单位"
            )
        if any(a.department_id == department.id for a in case.active_assignments()):
            raise RuleRefused("already_assigned", f"{department.name}已在办理该工单，不能重复派单")
        assignment = _assign(case, department, "assist", actor, now)
        record(case, "assist", actor, case.status, case.status, note=note, department=department)
    else:
        before, after = transition(case, "dispatch")
        assignment = _assign(case, department, "lead", actor, now)
        record(
            case,
            "dispatch",
            actor,
            before,
            after,
            note=note or ("自动派单" if auto else ""),
            department=department,
            data={"auto": auto, "role": role},
            actor_label=None if actor else "系统（自动派单）",
        )
    notify_department(department.id, f"新工单 {case.number} 已派至{department.name}，请及时签收", case.id)
    publish_update(case, "dispatch")
    return assignment


def _own_assignment(case: Case, actor: User, statuses: tuple[str, ...], action: str) -> Assignment:
    """The actor's unit's active assignment on this case (its own, or a sub-unit's for an admin)."""
    if actor.department is None:
        raise NotAllowed("只有承办单位人员可以执行此操作")
    mine = [a for a in reversed(case.assignments) if a.department_id == actor.department_id]
    for a in mine:
        if a.status in statuses:
            return a
    label = ACTION_LABELS.get(action, action)
    if any(a.status == AssignmentState.PENDING for a in mine):
        raise RuleRefused("not_signed", f"您所在单位尚未签收该工单，请先签收，再{label}")
    raise RuleRefused(
        "no_assignment",
        f"工单当前状态为「{state_label(case.status)}」，没有派给您所在单位的待办任务，不能执行「{label}」操作",
    )


def _to_sign(case: Case, actor: User) -> Assignment:
    assignment = _own_assignment(case, actor, (AssignmentState.PENDING, AssignmentState.SIGNED), "sign")
    if assignment.status == AssignmentState.SIGNED:
        raise RuleRefused("already_signed", f"{assignment.department.name}已签收该工单，不能重复签收")
    return assignment


def sign(case: Case, actor: User, now: datetime) -> None:
    assignment = _to_sign(case, actor)
    signed = {"status": AssignmentState.SIGNED.value, "signed_at": now}
    if not assignments.claim(assignment, Assignment.status == AssignmentState.PENDING.value, **signed):
        _to_sign(case, actor)  # lost to a concurrent request: refused as if it had come second
        raise assignments.lost(ACTION_LABELS["sign"])
    timers.rearm(assignment)
    if assignment.role == "lead":
        before, after = transition(case, "sign")
    else:
        before = after = case.status
    record(case, "sign", actor, before, after, department=assignment.department)
    publish_update(case, "sign")


def _to_contact(case: Case, actor: User) -> Assignment:
    assignment = _own_assignment(case, actor, (AssignmentState.SIGNED,), "contact")
    if assignment.contacted_at is not None:
        raise RuleRefused("already_contacted", f"{assignment.department.name}已记录过首次联系，不能重复记录")
    return assignment


def contact(case: Case, actor: User, note: str, now: datetime) -> None:
    assignment = _to_contact(case, actor)
    expected = sa.and_(Assignment.status == AssignmentState.SIGNED.value, Assignment.contacted_at.is_(None))
    if not assignments.claim(assignment, expected, contacted_at=now):
        _to_contact(case, actor)
        raise assignments.lost(ACTION_LABELS["contact"])
    timers.rearm(assignment)
    record(case, "contact", actor, case.status, case.status, note=note, department=assignment.department)
    publish_update(case, "contact")


def reply(case: Case, actor: User, content: str, result: str, now: datetime) -> None:
    assignment = _own_assignment(case, actor, (AssignmentState.SIGNED,), "reply")
    replied = {"status": AssignmentState.REPLIED.value, "replied_at": now}
    replied.update(reply_content=content, reply_result=result)
    if not assignments.claim(assignment, Assignment.status == AssignmentState.SIGNED.value, **replied):
        _own_assignment(case, actor, (AssignmentState.SIGNED,), "reply")  # refused as if it had come second
        raise assignments.lost(ACTION_LABELS["reply"])
    timers.rearm(assignment)
    if assignment.role == "lead":
        before, after = transition(case, "reply")
        notify_role(Role.AGENT, f"工单 {case.number} 已答复，请回访办结", case.id)
        citizen_notices.case_replied(case, content, assignment.department.name)
    else:
        before = after = case.status
    record(
        case,
        "reply",
        actor,
        before,
        after,
        note=content,
        department=assignment.department,
        data={"result": result, "role": assignment.role},
    )
    if assignment.role == "lead":
        invite_after_reply(case, content, now)
    publish_update(case, "reply")


def return_case(case: Case, actor: User, reason: str, now: datetime) -> None:
    assignment = _own_assignment(case, actor, (AssignmentState.PENDING, AssignmentState.SIGNED), "return")
    if assignment.role != "lead":
        returned = {"status": AssignmentState.RETURNED.value, "return_reason": reason}
        if not assignments.claim(assignment, Assignment.status.in_(timers.ACTIVE), **returned):
            _own_assignment(case, actor, (AssignmentState.PENDING, AssignmentState.SIGNED), "return")
            raise assignments.lost(ACTION_LABELS["return"])
        timers.rearm(assignment)
        record(
            case,
            "return",
            actor,
            case.status,
            case.status,
            note=reason,
            department=assignment.department,
            data={"role": "assist"},
        )
    else:
        before, after = transition(case, "return")
        assignment.status, assignment.return_reason = AssignmentState.RETURNED.value, reason
        record(case, "return", actor, before, after, note=reason, department=assignment.department)
        notify_role(Role.DISPATCHER, f"工单 {case.number} 被{assignment.department.name}退回：{reason}", case.id)
    publish_update(case, "return")


def decide_return(
    case: Case, actor: User, accept: bool, department: Department | None, note: str, now: datetime
) -> None:
    returned = next(
        (a for a in reversed(case.assignments) if a.role == "lead" and a.status == AssignmentState.RETURNED), None
    )
    if case.status != CaseState.RETURNED or returned is None:
        # raises InvalidTransition with the state's message
        transition(case, "redispatch" if accept else "reject_return")
    if accept:
        if department is None:
            raise RuleRefused("department_required", "同意退回时必须指定改派单位")
        before, after = transition(case, "redispatch")
        _assign(case, department, "lead", actor, now)
        record(
            case,
            "redispatch",
            actor,
            before,
            after,
            note=note,
            department=department,
            data={"from_department": returned.department.code, "accepted": True},
        )
        notify_department(department.id, f"新工单 {case.number} 已改派至{department.name}，请及时签收", case.id)
    else:
        before, after = transition(case, "reject_return")
        returned.status = AssignmentState.PENDING.value  # back to the same unit, its original deadlines keep running
        timers.rearm(returned)
        case.lead_department = returned.department
        record(
            case,
            "reject_return",
            actor,
            before,
            after,
            note=note,
            department=returned.department,
            data={"improper_return": True},
        )
        notify_department(returned.department_id, f"工单 {case.number} 的退回申请被驳回：{note}", case.id)
    publish_update(case, "return_decision")


def close(case: Case, actor: User | None, note: str, now: datetime) -> None:
    before, after = transition(case, "close")
    case.closed_at = now
    record(case, "close", actor, before, after, note=note)
    publish_update(case, "close")


def answer(
    case: Case, actor: User, text: str, kb_id: int | None, now: datetime, category: Category | None = None
) -> None:
    """直接办结: a case answered on the spot keeps a category (``category`` sets it), so it counts in every
    breakdown; refused without one."""
    next_state(case.status, "answer")  # an illegal transition is refused first
    if category is None and case.category_id is None and case.category is None:
        raise RuleRefused("category_required", "直接办结须选择问题分类", {"category": "请选择问题分类"})
    if category is not None:
        case.category = category
    before, after = transition(case, "answer")
    case.answer, case.answer_kb_id, case.closed_at = text, kb_id, now
    data: dict = {"kb_id": kb_id}
    entry = db.session.get(KbEntry, kb_id) if kb_id else None
    if entry is not None:  # the timeline cites the entry as it was when used
        data.update(kb_code=entry.code, kb_title=entry.title, kb_version=entry.version)
        cite(entry.id)
    record(case, "answer", actor, before, after, note=text, data=data)
    publish_update(case, "answer")


def merge(case: Case, master: Case, actor: User, now: datetime) -> None:
    if master.id == case.id:
        raise RuleRefused("merge_self", "不能把工单并入它自己")
    if master.status in (CaseState.CLOSED, CaseState.MERGED):
        raise RuleRefused("master_closed", f"主工单 {master.number} 已结束，不能并入")
    before, after = transition(case, "merge")
    case.merged_into_id = master.id
    for a in case.active_assignments():
        a.status = AssignmentState.CANCELLED.value
    record(case, "merge", actor, before, after, note=f"并入 {master.number}", data={"master": master.number})
    record(
        master,
        "merged_in",
        actor,
        master.status,
        master.status,
        note=f"{case.number} 并入本单",
        data={"duplicate": case.number},
    )

    db.session.flush()
    move_citizens(case, master)
    publish_update(case, "merge")

"""Time-limit supervision operations: pause/resume the clock, extensions, 催办/督办 and their acknowledgement.

Like hotline/cases/operations.py: change data, write a CaseEvent, queue notices and ``case.updated``, flush —
never commit. Every operation also bumps the case's version (``updated_at``), so two people acting on the
same case at once are told one of them is stale.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from hotline.auth.roles import Role
from hotline.cases.errors import NotAllowed, RuleRefused
from hotline.cases.operations import _own_assignment
from hotline.cases.timeline import publish_update, record
from hotline.cases.workflow import AssignmentState
from hotline.channels.notify import notify_department, notify_role, notify_user
from hotline.extensions import db
from hotline.models import Assignment, Case, Department, SlaExtension, SlaPause, Supervision, User
from hotline.sla import deadlines, timers

MAX_EXTENSIONS = 2
SUPERVISION_LEVELS = {"remind": "催办", "supervise": "督办"}


def _touch(case: Case, now: datetime) -> None:
    case.updated_at = now  # a row change: the version counter moves


# --- pause / resume (waiting for the citizen) ---------------------------------------------------


def pause(case: Case, actor: User, reason: str, now: datetime) -> SlaPause:
    a = _own_assignment(case, actor, (AssignmentState.SIGNED,), "pause")
    if a.paused_at is not None:
        raise RuleRefused("already_paused", f"该工单已于 {deadlines.local(a.paused_at)} 暂停计时，请勿重复暂停")
    if a.deadline_reply is not None and a.deadline_reply <= now:
        raise RuleRefused("deadline_passed", f"答复时限（{deadlines.local(a.deadline_reply)}）已过，不能暂停计时")
    row = SlaPause(case_id=case.id, assignment_id=a.id, reason=reason, started_at=now, started_by_id=actor.id)
    db.session.add(row)
    a.paused_at = now
    timers.rearm(a)
    _touch(case, now)
    record(
        case,
        "pause",
        actor,
        case.status,
        case.status,
        note=reason,
        department=a.department,
        data={"assignment_id": a.id},
    )
    publish_update(case, "pause")
    return row


def resume(case: Case, actor: User, now: datetime) -> SlaPause:
    a = _own_assignment(case, actor, (AssignmentState.SIGNED,), "resume")
    row = db.session.scalar(sa.select(SlaPause).where(SlaPause.assignment_id == a.id, SlaPause.ended_at.is_(None)))
    if a.paused_at is None or row is None:
        raise RuleRefused("not_paused", "该工单没有暂停计时，无需恢复")
    row.ended_at, row.ended_by_id = now, actor.id
    a.paused_at = None
    before = a.deadline_reply
    db.session.flush()
    timers.plan(a)  # open milestones, with every closed pause (this one included) left out
    _touch(case, now)
    record(
        case,
        "resume",
        actor,
        case.status,
        case.status,
        department=a.department,
        note=f"暂停 {_minutes(row)} 分钟；答复时限 {deadlines.local(before)} → {deadlines.local(a.deadline_reply)}",
        data={
            "paused_from": row.started_at.isoformat(),
            "paused_to": now.isoformat(),
            "deadline_reply": a.deadline_reply.isoformat(),
        },
    )
    publish_update(case, "resume")
    return row


def _minutes(row: SlaPause) -> int:
    return int((row.ended_at - row.started_at).total_seconds() // 60)


# --- extensions ---------------------------------------------------------------------------------


def request_extension(case: Case, actor: User, days: int, reason: str, now: datetime) -> SlaExtension:
    a = _own_assignment(case, actor, (AssignmentState.SIGNED,), "extension")
    # while paused the clock stands still (a pause is only allowed before the limit): still in time
    if a.paused_at is None and a.deadline_reply is not None and a.deadline_reply <= now:
        raise RuleRefused(
            "deadline_passed", f"答复时限（{deadlines.local(a.deadline_reply)}）已过，延期须在时限届满前申请"
        )
    if a.extensions_used >= MAX_EXTENSIONS:
        raise RuleRefused(
            "extension_limit",
            f"每件工单最多申请延期{MAX_EXTENSIONS}次，本单位已申请{a.extensions_used}次，不能再次申请",
        )
    pending = db.session.scalar(
        sa.select(SlaExtension.id).where(SlaExtension.assignment_id == a.id, SlaExtension.status == "pending")
    )
    if pending is not None:
        raise RuleRefused("extension_pending", "已有一项延期申请正在等待审批，请勿重复申请")
    row = SlaExtension(
        case_id=case.id,
        assignment_id=a.id,
        department_id=a.department_id,
        days=days,
        reason=reason,
        status="pending",
        requested_by_id=actor.id,
        requested_at=now,
        old_due=a.deadline_reply,
    )
    db.session.add(row)
    a.extensions_used += 1
    _touch(case, now)
    record(
        case,
        "extension_request",
        actor,
        case.status,
        case.status,
        note=f"申请延期{days}天：{reason}",
        department=a.department,
        data={"days": days, "deadline_reply": _iso(a.deadline_reply)},
    )
    notify_role(Role.MONITOR, f"工单 {case.number} {a.department.name}申请延期{days}天，请审批", case.id)
    publish_update(case, "extension_request")
    return row


def decide_extension(case: Case, actor: User, approve: bool, note: str, now: datetime) -> SlaExtension:
    row = db.session.scalar(
        sa.select(SlaExtension)
        .where(SlaExtension.case_id == case.id, SlaExtension.status == "pending")
        .order_by(SlaExtension.id)
        .limit(1)
    )
    if row is None:
        raise RuleRefused("no_pending_extension", "该工单没有待审批的延期申请")
    a = db.session.get(Assignment, row.assignment_id)
    row.status, row.decided_by_id, row.decided_at, row.decision_note = (
        "approved" if approve else "denied",
        actor.id,
        now,
        note,
    )
    if approve:
        limits = timers.limits_of(a)
        limits["reply"] = timers.extended(limits["reply"], row.days, deadlines.calendar())
        a.sla_limits = timers.snapshot(limits)
        timers.plan(a, ["reply"])
        row.new_due = a.deadline_reply
        text = f"同意延期{row.days}天，答复时限 {deadlines.local(row.old_due)} → {deadlines.local(a.deadline_reply)}"
    else:
        text = f"不同意延期，答复时限仍为 {deadlines.local(a.deadline_reply)}"
    _touch(case, now)
    record(
        case,
        "extension_decision",
        actor,
        case.status,
        case.status,
        note=f"{text}{'：' + note if note else ''}",
        department=a.department,
        data={"approve": approve, "days": row.days, "extension_id": row.id, "deadline_reply": _iso(a.deadline_reply)},
    )
    notify_department(a.department_id, f"工单 {case.number} 延期申请：{text}", case.id)
    publish_update(case, "extension_decision")
    return row


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# --- 催办 / 督办 ---------------------------------------------------------------------------------


def supervise(
    case: Case, actor: User, level: str, note: str, department: Department | None, now: datetime
) -> Supervision:
    active = case.active_assignments()
    active = [a for a in active if a.status in timers.ACTIVE]
    if department is not None:
        active = [a for a in active if a.department_id == department.id]
    else:
        lead = case.lead_assignment()
        active = [lead] if lead is not None and lead.status in timers.ACTIVE else active[:1]
    if not active:
        target = f"{department.name}在该工单上" if department else "该工单"
        raise RuleRefused("no_assignment", f"{target}没有正在办理的承办单位，无法{SUPERVISION_LEVELS[level]}")
    a = active[0]
    row = Supervision(
        case_id=case.id,
        assignment_id=a.id,
        department_id=a.department_id,
        level=level,
        note=note,
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(row)
    _touch(case, now)
    label = SUPERVISION_LEVELS[level]
    record(
        case,
        "supervise",
        actor,
        case.status,
        case.status,
        note=f"{label}：{note}",
        department=a.department,
        data={"level": level},
    )
    notify_department(a.department_id, f"工单 {case.number} 收到{label}：{note}（请签收确认）", case.id)
    publish_update(case, "supervise")
    return row


def acknowledge(case: Case, actor: User, note: str, now: datetime) -> list[Supervision]:
    if actor.department_id is None:
        raise NotAllowed("只有承办单位人员可以签收督办")
    rows = db.session.scalars(
        sa.select(Supervision)
        .where(
            Supervision.case_id == case.id,
            Supervision.department_id == actor.department_id,
            Supervision.acknowledged_at.is_(None),
        )
        .order_by(Supervision.id)
    ).all()
    if not rows:
        raise RuleRefused("no_open_supervision", "您所在单位在该工单上没有待确认的催办/督办")
    for row in rows:
        row.acknowledged_at, row.acknowledged_by_id, row.ack_note = now, actor.id, note
    _touch(case, now)
    labels = "、".join(dict.fromkeys(SUPERVISION_LEVELS[r.level] for r in rows))
    record(
        case,
        "supervise_ack",
        actor,
        case.status,
        case.status,
        note=note or f"已确认{labels}",
        department=actor.department,
        data={"supervisions": [r.id for r in rows]},
    )
    for creator in {r.created_by_id for r in rows if r.created_by_id}:
        notify_user(creator, f"工单 {case.number}：{actor.department.name}已确认{labels}", case.id)
    publish_update(case, "supervise_ack")
    return rows

"""The 差评 loop (docs/domain.md): verify (核实, 1 working day) → reasonable: rectify (整改, 立行立改 or a deadline
≤ 15 working days) → revisit (整改回访) with a new rating → closed, or reopened (重办); unreasonable/malicious:
explain to the citizen → closed. The unit may appeal (申诉复核) once; the supervisor rules. Every step writes
a CaseEvent on the case. Operations flush, never commit."""

from __future__ import annotations

from datetime import datetime

from hotline.auth.roles import Role
from hotline.cases import operations as ops
from hotline.cases.errors import NotAllowed, RuleRefused
from hotline.cases.timeline import record
from hotline.cases.workflow import CaseState
from hotline.channels.notify import notify_department, notify_role
from hotline.extensions import db
from hotline.models import Case, Rating, Rectification, User
from hotline.models.ratings import SCORE_LABELS
from hotline.ratings.invitations import invite
from hotline.realtime.publish import publish
from hotline.sla import clock as sla
from hotline.sla import deadlines

STAGES = {
    "verifying": "待核实",
    "rectifying": "整改中",
    "revisiting": "待回访",
    "explaining": "待解释",
    "closed": "已办结",
    "reopened": "已重办",
}
OPEN_STAGES = ("verifying", "rectifying", "revisiting", "explaining")
OUTCOMES = {"reasonable": "合理差评", "unreasonable": "不合理差评", "malicious": "恶意差评"}
MODES = {"immediate": "立行立改", "deadline": "限期整改"}
APPEAL = {"pending": "申诉待复核", "upheld": "申诉成立", "rejected": "申诉驳回"}
STAGE_LIMIT_DAYS = {"verifying": 1, "revisiting": 1, "explaining": 1}  # rectifying: by the verdict
MAX_RECTIFY_DAYS = 15
SYSTEM = "系统（差评整改）"


def _set_limit(rect: Rectification, start: datetime, days: float) -> None:
    cal = deadlines.calendar()
    rect.due_at = sla.deadline(start, sla.Limit(days, "work_days"), cal)
    rect.yellow_at = sla.deadline(start, sla.Limit(days * sla.YELLOW_AT, "work_days"), cal)
    rect.card = None


def _clear_limit(rect: Rectification) -> None:
    rect.due_at = rect.yellow_at = rect.card = None


def _event(rect: Rectification, action: str, actor: User | None, note: str, **data) -> None:
    case = db.session.get(Case, rect.case_id)
    record(
        case,
        action,
        actor,
        case.status,
        case.status,
        note=note,
        department=rect.department,
        actor_label=None if actor else SYSTEM,
        data={"rectification_id": rect.id, "stage": rect.stage, **data},
    )


def expect_stage(rect: Rectification, *stages: str) -> None:
    if rect.stage not in stages:
        wanted = "、".join(STAGES[s] for s in stages)
        raise RuleRefused(
            "invalid_stage", f"该差评当前处于「{STAGES[rect.stage]}」阶段，只有「{wanted}」时才能执行此操作"
        )


def _own_unit(rect: Rectification, actor: User) -> None:
    dept = actor.department
    if dept is None or rect.department is None or not rect.department.path.startswith(dept.path):
        raise NotAllowed("只有被评价的承办单位可以执行此操作")


def open_for(case: Case, rating: Rating, now: datetime) -> Rectification:
    """A poor rating (≤ 2 or unresolved) opens the loop: verify within 1 working day; supervisors are told."""
    rect = Rectification(
        case_id=case.id,
        rating_id=rating.id,
        department_id=case.lead_department_id,
        citizen_id=rating.citizen_id,
        stage="verifying",
        created_at=now,
    )
    rect.department = case.lead_department
    _set_limit(rect, now, STAGE_LIMIT_DAYS["verifying"])
    db.session.add(rect)
    db.session.flush()
    resolved = "，问题未解决" if rating.resolved is False else ""
    _event(
        rect,
        "rating_poor",
        None,
        f"差评（{rating.score}分 {SCORE_LABELS[rating.score]}{resolved}），"
        f"转督办员核实，核实时限 {deadlines.local(rect.due_at)}",
        rating_id=rating.id,
        due_at=rect.due_at.isoformat(),
    )
    notify_role(Role.SUPERVISOR, f"工单 {case.number} 收到差评（{rating.score}分），请在1个工作日内核实", case.id)
    db.session.flush()
    publish(
        "rating.poor",
        {
            "number": case.number,
            "rating_id": rating.id,
            "rectification_id": rect.id,
            "score": rating.score,
            "resolved": rating.resolved,
            "department_code": case.lead_department.code if case.lead_department else None,
            "due_at": rect.due_at.isoformat(),
            "cursor": case.events[-1].id,
        },
        ["role:supervisor"],
    )
    return rect


def verify(
    rect: Rectification,
    actor: User,
    outcome: str,
    note: str,
    now: datetime,
    *,
    mode: str | None = None,
    days: int | None = None,
) -> None:
    """The supervisor called the citizen (核实): reasonable → the unit rectifies; otherwise → explain."""
    expect_stage(rect, "verifying")
    if outcome not in OUTCOMES:
        raise RuleRefused("invalid_input", "核实结论必须是：合理、不合理或恶意")
    rect.outcome, rect.verify_note, rect.verified_at, rect.verified_by_id = outcome, note, now, actor.id
    case = db.session.get(Case, rect.case_id)
    if outcome == "reasonable":
        if mode not in MODES:
            raise RuleRefused("invalid_input", "合理差评须选择整改方式：立行立改或限期整改")
        if mode == "deadline" and (days is None or not 1 <= days <= MAX_RECTIFY_DAYS):
            raise RuleRefused("invalid_input", f"限期整改的期限必须是1到{MAX_RECTIFY_DAYS}个工作日")
        rect.mode, rect.stage = mode, "rectifying"
        _set_limit(rect, now, 1 if mode == "immediate" else days)
        detail = f"{MODES[mode]}，整改时限 {deadlines.local(rect.due_at)}"
        if rect.department_id:
            notify_department(rect.department_id, f"工单 {case.number} 的差评经核实合理，请{detail}", case.id)
    else:
        rect.stage = "explaining"
        _set_limit(rect, now, STAGE_LIMIT_DAYS["explaining"])
        if outcome == "malicious":
            rect.rating.excluded = True  # a malicious rating does not count against the unit
        detail = "向市民解释说明" + ("，该评价不计入考核" if outcome == "malicious" else "")
    _event(
        rect,
        "rating_verify",
        actor,
        f"核实结论：{OUTCOMES[outcome]}（{detail}）。{note}",
        outcome=outcome,
        mode=rect.mode,
        due_at=rect.due_at.isoformat(),
    )


def rectify(rect: Rectification, actor: User, note: str, now: datetime) -> None:
    """The unit reports its rectification; the citizen gets a revisit invitation, the supervisor revisits."""
    expect_stage(rect, "rectifying")
    _own_unit(rect, actor)
    rect.rectify_note, rect.rectified_at, rect.stage = note, now, "revisiting"
    _set_limit(rect, now, STAGE_LIMIT_DAYS["revisiting"])
    late = rect.card == "red"
    _event(rect, "rectify", actor, f"整改情况：{note}", late=late)
    case = db.session.get(Case, rect.case_id)
    own = case
    if case.citizen_id != rect.citizen_id:  # the rating came from the citizen of a merged duplicate
        own = next(
            (
                c
                for c in db.session.query(Case).filter(Case.merged_into_id == case.id)
                if c.citizen_id == rect.citizen_id
            ),
            case,
        )
    invite(case, own, "revisit", note, now, rectification_id=rect.id)
    notify_role(Role.SUPERVISOR, f"工单 {case.number} 已整改，请回访市民", case.id)


def conclude_revisit(rect_id: int, rating: Rating, actor: User | None, now: datetime) -> Rectification:
    """The revisit's new rating: good → closed (the case too); poor → reopened (重办, back to dispatch)."""
    rect = db.session.get(Rectification, rect_id)
    expect_stage(rect, "revisiting")
    rect.revisited_at, rect.revisit_rating_id, rect.closed_at = now, rating.id, now
    _clear_limit(rect)
    case = db.session.get(Case, rect.case_id)
    if rating.poor:
        if case.status != CaseState.REPLIED:
            raise RuleRefused("invalid_transition", f"工单 {case.number} 当前不是「已答复」状态，无法重办")
        rect.stage = rect.result = "reopened"
        _event(
            rect,
            "rectify_revisit",
            actor,
            f"整改回访：{rating.score}分 {SCORE_LABELS[rating.score]}，市民仍不满意，工单重办",
            rating_id=rating.id,
            result="reopened",
        )
        before, after = ops.transition(case, "reopen")
        ops.record(
            case,
            "reopen",
            actor,
            before,
            after,
            note="整改回访仍不满意，退回派单重办",
            actor_label=None if actor else SYSTEM,
            data={"rectification_id": rect.id},
        )
        ops.publish_update(case, "reopen")
        notify_role(Role.DISPATCHER, f"工单 {case.number} 整改回访仍不满意，已重办，请重新派单", case.id)
    else:
        rect.stage = rect.result = "closed"
        _event(
            rect,
            "rectify_revisit",
            actor,
            f"整改回访：{rating.score}分 {SCORE_LABELS[rating.score]}，整改办结",
            rating_id=rating.id,
            result="closed",
        )
        if case.status == CaseState.REPLIED:
            ops.close(case, actor, "差评整改回访满意，办结", now)
    return rect


def explain(rect: Rectification, actor: User, note: str, now: datetime) -> None:
    """Unreasonable/malicious: the supervisor explained the reply to the citizen (counts as the revisit)."""
    expect_stage(rect, "explaining")
    rect.explanation, rect.revisited_at, rect.closed_at = note, now, now
    rect.stage = rect.result = "closed"
    _clear_limit(rect)
    _event(rect, "rating_explain", actor, f"已向市民解释说明：{note}")
    case = db.session.get(Case, rect.case_id)
    if case.status == CaseState.REPLIED:
        ops.close(case, actor, "差评经核实不合理，已向市民解释说明，办结", now)


def appeal(rect: Rectification, actor: User, reason: str, now: datetime) -> None:
    """The unit asks for a review (申诉复核) of a verified 差评; once per record."""
    _own_unit(rect, actor)
    if rect.outcome is None:
        raise RuleRefused("not_verified", "差评尚未核实，核实后才能申诉")
    if rect.appeal_status is not None:
        raise RuleRefused("already_appealed", f"该差评已申诉过（{APPEAL[rect.appeal_status]}），不能重复申诉")
    if rect.rating.excluded:
        raise RuleRefused("already_excluded", "该评价已不计入考核，无需申诉")
    if rect.stage == "reopened":
        raise RuleRefused("invalid_stage", "工单已重办，不能再申诉")
    rect.appeal_status, rect.appeal_reason = "pending", reason
    _event(rect, "rating_appeal", actor, f"承办单位申诉：{reason}")
    notify_role(Role.SUPERVISOR, f"工单 {rect.case.number} 的差评收到承办单位申诉，请复核", rect.case_id)


def decide_appeal(rect: Rectification, actor: User, uphold: bool, note: str, now: datetime) -> None:
    """The supervisor rules: upheld → the rating leaves the unit's assessment (and rectification stops)."""
    if rect.appeal_status != "pending":
        raise RuleRefused("no_pending_appeal", "该差评没有待复核的申诉")
    rect.appeal_status, rect.appeal_note = ("upheld" if uphold else "rejected"), note
    if uphold:
        rect.rating.excluded = True
        if rect.stage == "rectifying":
            rect.stage, rect.outcome = "explaining", "unreasonable"
            _set_limit(rect, now, STAGE_LIMIT_DAYS["explaining"])
    _event(
        rect,
        "rating_appeal_decision",
        actor,
        f"申诉复核：{'申诉成立，该评价不计入考核' if uphold else '申诉驳回'}。{note}",
        upheld=uphold,
    )
    if rect.department_id:
        notify_department(
            rect.department_id, f"工单 {rect.case.number} 的差评申诉{APPEAL[rect.appeal_status]}", rect.case_id
        )

"""Dispatcher workbench actions and the routing panel of the case page (pages, zh-CN, CSRF).

- POST /dispatch/cases/NUMBER/accept      one-key accept of a suggestion (unit + category), lead or assist
- POST /dispatch/cases/NUMBER/decide      return queue: accept (re-dispatch to a unit) or reject (improper)
- POST /dispatch/cases/NUMBER/merge       并单 into a master case
- POST /dispatch/cases/NUMBER/transfer    one-click transfer of an emergency to 110/119/120/122
- POST /dispatch/cases/NUMBER/subdispatch a district hands its case on to one of its streets (二次派单)
The workbench page itself is console.dispatch_queue (data: hotline.dispatch.workbench.queue).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user
from wtforms import HiddenField, StringField
from wtforms.validators import Length, Optional

from hotline.auth.permissions import access_case, authenticate_page, can, requires
from hotline.auth.safety import safe_next
from hotline.cases import operations as ops
from hotline.cases.citizens import case_citizens, merged_cases
from hotline.cases.errors import NotAllowed, RuleRefused, StaleVersion
from hotline.cases.forms import ZhForm
from hotline.cases.page_actions import commit_action
from hotline.cases.workflow import AssignmentState, CaseState, InvalidTransition
from hotline.dispatch import operations as dispatching
from hotline.extensions import db
from hotline.models import Case, CaseRouting, Category, Department, User

dispatch_bp = Blueprint("dispatch", __name__)
dispatch_bp.before_request(authenticate_page)
DOMAIN_ERRORS = (InvalidTransition, RuleRefused, NotAllowed, StaleVersion)


class ActForm(ZhForm):
    version = HiddenField()
    next = HiddenField()
    department = StringField("承办单位", validators=[Optional(), Length(max=32)])
    category = StringField("分类", validators=[Optional(), Length(max=100)])
    role = StringField("办理方式", validators=[Optional(), Length(max=8)])
    decision = StringField("审核结果", validators=[Optional(), Length(max=8)])
    into = StringField("主工单编号", validators=[Optional(), Length(max=32)])
    number = StringField("转接号码", validators=[Optional(), Length(max=4)])
    note = StringField("说明", validators=[Optional(), Length(max=1000, message="说明不能超过1000个字")])


def _unit(code: str | None, label: str = "承办单位") -> Department:
    unit = (
        db.session.scalar(sa.select(Department).where(Department.code == (code or ""), Department.active.is_(True)))
        if code
        else None
    )
    if unit is None:
        raise RuleRefused("unknown_department", f"请选择有效的{label}")
    return unit


def _accept(case: Case, form: ActForm, now: datetime) -> str:
    unit = _unit(form.department.data)
    if form.category.data:
        category = db.session.scalar(
            sa.select(Category).where(Category.level == 1, Category.name == form.category.data)
        )
        if category is not None and (case.category is None or case.category.level1 != category.name):
            dispatching.reclassify(case, current_user, category, now)
    role = "assist" if form.role.data == "assist" else "lead"
    ops.dispatch(case, unit, current_user, now, role=role, note=form.note.data or "")
    return f"工单 {case.number} 已派至{unit.name}" if role == "lead" else f"已增派协办单位：{unit.name}"


def _decide(case: Case, form: ActForm, now: datetime) -> str:
    accept = form.decision.data == "accept"
    note = (form.note.data or "").strip()
    if not note:
        raise RuleRefused("note_required", "请填写审核意见")
    unit = _unit(form.department.data, "改派单位") if accept else None
    ops.decide_return(case, current_user, accept, unit, note, now)
    return f"已同意退回，改派至{unit.name}" if accept else "已驳回退回（计为不当退回），原单位继续办理"


def _merge(case: Case, form: ActForm, now: datetime) -> str:
    master = db.session.scalar(sa.select(Case).where(Case.number == (form.into.data or "").strip()))
    if master is None:
        raise RuleRefused("unknown_case", "主工单编号不存在")
    ops.merge(case, master, current_user, now)
    return f"工单 {case.number} 已并入 {master.number}，由主工单统一办理和答复"


def _transfer(case: Case, form: ActForm, now: datetime) -> str:
    dispatching.transfer_emergency(case, current_user, form.number.data or "", form.note.data or "", now)
    return f"已{dispatching.EMERGENCY_LINES[form.number.data]}，转接已记录在工单上"


def _subdispatch(case: Case, form: ActForm, now: datetime) -> str:
    street = _unit(form.department.data, "街道/镇")
    dispatching.subdispatch(case, current_user, street, form.note.data or "", now)
    return f"已二次派单至{street.name}"


ACTIONS = {  # action -> (capability, run)
    "accept": ("case.dispatch", _accept),
    "decide": ("case.dispatch", _decide),
    "merge": ("case.merge", _merge),
    "transfer": ("case.transfer", _transfer),
    "subdispatch": ("case.subdispatch", _subdispatch),
}


@dispatch_bp.post("/dispatch/cases/<number>/<action>")
@requires("case.view")  # and the action's own capability, checked by access_case
def act(number: str, action: str):
    capability, run = ACTIONS.get(action) or abort(404)
    case = access_case(current_user, number, capability)
    form = ActForm()
    back = safe_next(form.next.data) or url_for("cases.detail", number=case.number)
    if not form.validate_on_submit():
        flash(next(iter(form.errors.values()))[0] if form.errors else "提交无效，请刷新页面后重试", "error")
        return redirect(back)
    return commit_action(case, form.version.data, lambda now: run(case, form, now), back)


def routing_panel(case: Case, user: User) -> dict:
    """What the case page shows about routing: stored suggestions, duplicates, emergency, out-of-scope,
    transfer, merge relations, the citizens a master answers for, the streets a district may hand it to."""
    stored = db.session.get(CaseRouting, case.id)
    master = db.session.get(Case, case.merged_into_id) if case.merged_into_id else None
    codes = [s.get("department_code") for s in (stored.suggestions if stored else [])]
    units = (
        {d.code: d for d in db.session.scalars(sa.select(Department).where(Department.code.in_(codes)))}
        if codes
        else {}
    )
    open_case = case.status not in (CaseState.CLOSED, CaseState.MERGED)
    streets = []
    if (
        user.department is not None
        and user.department.kind == "district"
        and any(
            a.department_id == user.department_id
            and a.role == "lead"
            and a.status in (AssignmentState.PENDING, AssignmentState.SIGNED)
            for a in case.assignments
        )
    ):
        streets = list(
            db.session.scalars(
                sa.select(Department)
                .where(Department.parent_id == user.department_id, Department.active.is_(True))
                .order_by(Department.code)
            )
        )
    centre = can(user, "citizen.view")
    return {
        "stored": stored,
        "units": units,
        "master": master,
        "streets": streets,
        "merged": merged_cases(case) if centre else [],
        "citizens": case_citizens(case) if centre and case.merged_into_id is None else [],
        "can_merge": can(user, "case.merge") and open_case,
        "can_transfer": can(user, "case.transfer") and case.status in (CaseState.REGISTERED, CaseState.REOPENED),
        "can_accept": can(user, "case.dispatch") and case.status in (CaseState.REGISTERED, CaseState.REOPENED),
        "lines": dispatching.EMERGENCY_LINES,
    }

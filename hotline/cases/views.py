"""Case pages: the case list (/cases), the case page (/cases/NUMBER) and its action forms.

Views stay thin: parse the form, load the case, authorize, call the operation, commit, redirect.
Domain refusals (invalid transition, rule, stale copy) become a flashed message, never a 500.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from hotline.auth.permissions import (
    access_case,
    authenticate_page,
    can,
    department_scope,
    requires,
    sees_personal_data,
    visible_cases_filter,
)
from hotline.auth.safety import safe_next
from hotline.cases import forms as f
from hotline.cases import operations as ops
from hotline.cases.page_actions import commit_action
from hotline.cases.workflow import STATE_LABELS, AssignmentState, CaseState
from hotline.citizens.privacy import mask_name
from hotline.citizens.profile import citizen_name
from hotline.dispatch.pages import routing_panel
from hotline.extensions import db
from hotline.models import Assignment, Case, Category, Department, User
from hotline.models.cases import CHANNELS, KINDS
from hotline.notes import operations as case_notes
from hotline.search import query as search
from hotline.search import saved
from hotline.sla.panel import panel as sla_panel
from hotline.web.validation import whole_number

cases_bp = Blueprint("cases", __name__)
cases_bp.before_request(authenticate_page)


# --- what the current user may do ---------------------------------------------------------------


def own_assignment(case: Case, user: User) -> Assignment | None:
    """The open task of the user's own unit on this case (operations act on exactly that one)."""
    if not user.is_department_user or user.department_id is None:
        return None
    return next(
        (
            a
            for a in reversed(case.assignments)
            if a.department_id == user.department_id and a.status in (AssignmentState.PENDING, AssignmentState.SIGNED)
        ),
        None,
    )


def available_actions(case: Case, user: User) -> list[str]:
    status, acts, S = case.status, [], CaseState
    if can(user, "case.dispatch"):
        if status in (S.REGISTERED, S.REOPENED, S.DISPATCHED, S.HANDLING):
            acts.append("dispatch")
        if status == S.RETURNED:
            acts.append("return_decision")
    if can(user, "case.answer") and status == S.REGISTERED:
        acts.append("answer")
    if can(user, "case.close") and status == S.REPLIED:
        acts.append("close")
    own = own_assignment(case, user)
    if own is not None:
        if own.status == AssignmentState.PENDING:
            acts.append("sign")
        else:
            acts += ["contact"] if own.contacted_at is None else []
            acts.append("reply")
        acts.append("return")
    return acts


# --- the actions: form class, the capability they need, and the call into operations --------------


def _department(value: str | None) -> Department | None:
    unit_id = whole_number(value, 1, 2**31 - 1)  # "²".isdigit() but int("²") fails; 10**20 overflows the column
    return db.session.get(Department, unit_id) if unit_id is not None else None


def _dispatch(case, form, now):
    unit = _department(form.department.data)
    ops.dispatch(case, unit, current_user, now, role=form.role.data, note=form.note.data or "")
    return f"工单 {case.number} 已派至{unit.name}" if form.role.data == "lead" else f"已增派协办单位：{unit.name}"


def _decide(case, form, now):
    accept = form.decision.data == "accept"
    unit = _department(form.department.data) if accept else None
    ops.decide_return(case, current_user, accept, unit, form.note.data, now)
    return f"已同意退回，改派至{unit.name}" if accept else "已驳回退回，工单由原单位继续办理"


def _sign(case, form, now):
    ops.sign(case, current_user, now)
    return f"已签收工单 {case.number}"


def _contact(case, form, now):
    ops.contact(case, current_user, form.note.data, now)
    return "已记录首次联系市民"


def _reply(case, form, now):
    ops.reply(case, current_user, form.content.data.strip(), form.result.data, now)
    return "答复已提交"


def _return(case, form, now):
    ops.return_case(case, current_user, form.reason.data.strip(), now)
    return "工单已退回，等待派单员审核"


def _close(case, form, now):
    ops.close(case, current_user, form.note.data or "", now)
    return f"工单 {case.number} 已办结"


def _answer(case, form, now):
    category = db.session.get(Category, int(form.category.data)) if (form.category.data or "").isdigit() else None
    ops.answer(case, current_user, form.answer.data.strip(), None, now, category=category)
    return f"工单 {case.number} 已直接办结"


@dataclass(frozen=True)
class Action:
    form: type[f.ActionForm]
    capability: str
    run: Callable[[Case, f.ActionForm, datetime], str]


ACTIONS = {
    "dispatch": Action(f.DispatchForm, "case.dispatch", _dispatch),
    "return_decision": Action(f.ReturnDecisionForm, "case.dispatch", _decide),
    "sign": Action(f.SignForm, "case.sign", _sign),
    "contact": Action(f.ContactForm, "case.contact", _contact),
    "reply": Action(f.ReplyForm, "case.reply", _reply),
    "return": Action(f.ReturnForm, "case.return", _return),
    "close": Action(f.CloseForm, "case.close", _close),
    "answer": Action(f.AnswerForm, "case.answer", _answer),
}


def build_form(action: str, case: Case, bound: bool = False) -> f.ActionForm:
    """The action's form, bound to the request (bound=True) or fresh with defaults for this case."""
    form = ACTIONS[action].form(prefix=action, **({} if bound else {"formdata": None}))
    if hasattr(form, "department"):
        form.department.choices = {"": "请选择单位", **f.department_groups()}
    if hasattr(form, "category"):  # 直接办结: a leaf category, the case's own preselected
        form.category.choices = {"": "请选择问题分类", **f.category_groups()}
    if not bound:
        form.version.data = str(case.version)
        if action == "answer" and case.category_id is not None:
            form.category.data = str(case.category_id)
        if action == "dispatch":
            lead = case.status in (CaseState.REGISTERED, CaseState.REOPENED)
            suggestion = f.suggested_department(case) if lead else None
            # 增派协办: no unit preselected — the suggestion is usually the lead unit itself, which is refused
            form.department.data = str(suggestion.id) if suggestion else ""
            form.role.data = "lead" if lead else "assist"
    return form


# --- pages ---------------------------------------------------------------------------------------


def _citizen(case: Case) -> dict | None:
    """Masked caller data; None (shown as 保密) for a department user on a confidential case."""
    if case.confidential and not sees_personal_data(current_user, case):
        return None
    name = citizen_name(case.citizen)
    return {"name": mask_name(name) if name else "未留姓名", "phone": case.phone.masked}


def render_case(case: Case, bound: dict | None = None, status: int = 200):
    bound = bound or {}
    actions = available_actions(case, current_user)
    forms = {a: bound.get(a) or build_form(a, case) for a in actions}
    forms.update(bound)
    suggestion = f.suggested_department(case) if "dispatch" in forms else None

    return render_template(
        "cases/detail.html",
        case=case,
        forms=forms,
        citizen=_citizen(case),
        lead=case.lead_assignment(),
        suggestion=suggestion,
        sla=sla_panel(case, current_user),
        routing=routing_panel(case, current_user),
        notes=case_notes.listed(case),
    ), status


@cases_bp.get("/cases/<number>")
@requires("case.view")
def detail(number: str):
    return render_case(access_case(current_user, number))


@cases_bp.post("/cases/<number>/<action>")
@requires("case.view")  # and the action's own capability, checked by access_case
def act(number: str, action: str):
    spec = ACTIONS.get(action) or abort(404)
    case = access_case(current_user, number, spec.capability)
    form = build_form(action, case, bound=True)
    back = safe_next(form.next.data) or url_for("cases.detail", number=case.number)
    if not form.validate_on_submit():
        if safe_next(form.next.data):  # a one-click form on a list page: report and go back there
            flash(next(iter(form.errors.values()))[0], "error")
            return redirect(back)
        return render_case(case, bound={action: form}, status=400)
    return commit_action(case, form.version.data, lambda now: spec.run(case, form, now), back)


def _filters(args) -> tuple[list, dict, list[str]]:
    """Conditions from the query string, the values to show back in the form, and zh-CN problems."""
    conds, shown, problems = [], {}, []
    if (status := args.get("status", "")) in STATE_LABELS:
        conds.append(Case.status == status)
        shown["status"] = status
    if (kind := args.get("kind", "")) in KINDS:
        conds.append(Case.kind == kind)
        shown["kind"] = kind
    if unit := _department(args.get("department")):
        conds.append(Case.lead_department_id.in_(sa.select(Department.id).where(Department.path.startswith(unit.path))))
        shown["department"] = str(unit.id)
    if due := args.get("due_before", "").strip():
        try:
            day = date.fromisoformat(due)
        except ValueError:
            problems.append("答复期限日期格式不正确，应为 2026-11-30 这样的格式")
        else:
            zone = ZoneInfo(current_app.config["HOTLINE"].timezone)
            end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
            conds += [Case.deadline_reply.is_not(None), Case.deadline_reply < end]
            shown["due_before"] = due
    found = search.build({k: args.get(k) for k in search.PAGE_EXTRA}, current_app.config["HOTLINE"].timezone)
    if "q" in found.shown:
        search.prepare()  # the cases committed since the last search get their terms first
    conds += found.conds
    shown.update(found.shown)
    problems += found.problems.values()
    return conds, shown, problems


@cases_bp.get("/cases")
@requires("case.view")
def index():
    conds, shown, problems = _filters(request.args)
    query = sa.select(Case).where(visible_cases_filter(current_user), *conds)
    per_page = current_app.config["HOTLINE"].page_size
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    pages = max(1, math.ceil(total / per_page))
    raw_page = request.args.get("page", "").strip()
    page = whole_number(raw_page, min_value=1) if raw_page else 1  # "²", "-1", 10**20: no int() and no overflow
    if page is None:
        problems.append("页码必须是正整数，已显示第 1 页")
    page = min(page or 1, pages)  # past the last page: the last page
    rows = db.session.scalars(
        query.options(so.selectinload(Case.lead_department), so.selectinload(Case.category))
        .order_by(Case.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    units = {"": "全部单位", **f.department_groups(department_scope(current_user))}
    return render_template(
        "cases/list.html",
        cases=rows,
        shown=shown,
        problems=problems,
        units=units,
        page=page,
        pages=pages,
        total=total,
        states=STATE_LABELS,
        kinds=KINDS,
        channels=CHANNELS,
        saved_filters=saved.listed(current_user),
        query_string=saved.clean_query(request.query_string.decode("utf-8", "replace")),
    )

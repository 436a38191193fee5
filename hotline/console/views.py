"""Agent console (case registration) and the dispatcher's queues."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from hotline.auth.permissions import authenticate_page, can, requires, visible_cases_filter
from hotline.cases import operations as ops
from hotline.cases.forms import CaseForm, department_groups
from hotline.cases.workflow import OPEN_STATES
from hotline.citizens.phones import Phone, PhoneError, normalize
from hotline.citizens.profile import phone_number
from hotline.desks.callers import caller_phone
from hotline.dispatch.operations import EMERGENCY_LINES, transfer_emergency
from hotline.dispatch.workbench import queue
from hotline.extensions import db
from hotline.kb.console import AnswerError, parse_answer
from hotline.models import Call, Case, Category, CitizenPhone
from hotline.portal import consent
from hotline.web import filters

console_bp = Blueprint("console", __name__)
console_bp.before_request(authenticate_page)
filters.init_blueprint(console_bp)

QUEUE_LIMIT = 200
OPEN = tuple(s.value for s in OPEN_STATES)
URGENCY_ORDER = sa.case({"emergency": 0, "urgent": 1}, value=Case.urgency, else_=2)


def _can_register() -> bool:
    return can(current_user, "case.create")


def _my_cases_today() -> list[Case]:
    zone = ZoneInfo(current_app.config["HOTLINE"].timezone)
    midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return db.session.scalars(
        sa.select(Case)
        .where(Case.created_by_id == current_user.id, Case.created_at >= midnight.astimezone(UTC))
        .options(so.selectinload(Case.category))
        .order_by(Case.id.desc())
        .limit(20)
    ).all()


def _team_queue() -> list[Case]:
    """The latest open cases of the whole centre (updated live on the console)."""
    return db.session.scalars(
        sa.select(Case)
        .where(Case.status.in_(OPEN), visible_cases_filter(current_user))  # 分中心: their district only
        .options(so.selectinload(Case.category))
        .order_by(Case.id.desc())
        .limit(20)
    ).all()


def _render_console(form: CaseForm, status: int = 200):
    return render_template(
        "console/index.html",
        form=form,
        can_register=_can_register(),
        my_cases=_my_cases_today(),
        team_queue=_team_queue(),
    ), status


def _phone_for(form: CaseForm) -> Phone:
    """The typed number, or else the number of the call the case is registered during."""
    if (form.phone.data or "").strip():
        return caller_phone(form.phone.data)  # 12345, 110, … refused (hotline/desks/callers.py)
    call = db.session.scalar(sa.select(Call).where(Call.call_id == form.call_id.data))
    if call is None or call.phone_id is None:
        raise PhoneError("phone_empty", "该通话没有可用的来电号码，请手动填写")
    return normalize(phone_number(db.session.get(CitizenPhone, call.phone_id)))


def _transfer_if_asked(case: Case) -> str:
    line = request.form.get("transfer", "")
    if line not in EMERGENCY_LINES:
        return ""
    transfer_emergency(case, current_user, line, "登记时一键转接", datetime.now(UTC))
    return f"，已{EMERGENCY_LINES[line]}并记录"


@console_bp.get("/console")
@requires("console.use")
def index():
    form = CaseForm(formdata=None)
    form.fill_choices()
    return _render_console(form)


@console_bp.post("/console/cases")
@requires("case.create")
def create_case():
    form = CaseForm()
    form.fill_choices()
    valid = form.validate_on_submit()
    answer = _kb_answer(form)  # after validation, which resets the fields' errors
    category = form.chosen_category()
    if answer and category is None:  # 直接办结 keeps a category (else the cited entry's), so it counts in figures
        category = answer[0].category if answer[0] is not None else None
        if category is None:
            form.category1.errors = [*form.category1.errors, "直接办结须选择问题分类"]
            answer = False
    if valid and answer is not False:
        try:
            phone = _phone_for(form)
        except PhoneError as err:
            form.phone.errors.append(err.message)
        else:
            new = ops.NewCase(
                channel=form.channel.data,
                kind=form.kind.data,
                content=form.content.data.strip(),
                phone=phone,
                citizen_name=(form.citizen_name.data or "").strip() or None,
                address=(form.address.data or "").strip(),
                district=form.chosen_district(),
                urgency=form.urgency.data,
                category=category,
                confidential=form.confidential.data,
                call_id=(form.call_id.data or None),
            )
            case = ops.create_case(new, current_user, datetime.now(UTC))
            consent.record(case.id, form.public_consent.data, "console", datetime.now(UTC))  # 曝光台 (issue 19)
            if answer:  # 答复并办结 with the cited KB entry
                kb_id = answer[0].id if answer[0] else None
                ops.answer(case, current_user, answer[1], kb_id, datetime.now(UTC), category=new.category)
            done = "" if answer else _transfer_if_asked(case)  # the emergency banner's one-click button
            db.session.commit()
            flash(f"工单 {case.number} 已" + ("直接办结" if answer else f"登记{done}"), "success")
            return redirect(url_for("cases.detail", number=case.number))
    return _render_console(form, 400)


def _kb_answer(form: CaseForm):
    """None: plain registration; (entry, text): answer and close; False: the answer is invalid (form error)."""
    if request.form.get("action") != "answer":
        return None
    try:
        return parse_answer(request.form)
    except AnswerError as err:
        form.content.errors = [*form.content.errors, f"答复并办结：{err}"]
        return False


@console_bp.get("/console/categories")
@requires("console.use")
def categories():
    """Children of a category for the cascading picker: ?parent=ID (level-1 categories without it)."""
    parent = request.args.get("parent", "")
    level = Category.parent_id == int(parent) if parent.isdigit() else Category.level == 1
    query = sa.select(Category).where(level).options(so.selectinload(Category.department)).order_by(Category.id)
    items = [
        {
            "id": c.id,
            "name": c.name,
            "level": c.level,
            "department": c.department.name if c.department else None,
            "local": c.local,
        }
        for c in db.session.scalars(query)
    ]
    return jsonify({"items": items})


@console_bp.get("/dispatch")
@requires("console.use")
def dispatch_queue():
    """The dispatcher's workbench: waiting cases (most urgent, then oldest first) with the router's top-3
    suggestions, the return queue with accept/reject, and improper returns per unit (hotline/dispatch/workbench.py)."""
    data = queue(QUEUE_LIMIT, visible_cases_filter(current_user))  # 分中心 dispatchers: their district
    return render_template(
        "console/dispatch.html",
        data=data,
        limit=QUEUE_LIMIT,
        units=department_groups(),
        can_dispatch=can(current_user, "case.dispatch"),
    )

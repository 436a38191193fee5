"""Department portal pages for the KB: the unit's entries and feedback tasks, edit form, lifecycle buttons.

Every change goes through hotline/kb/entries.py (versions, index change number); forms carry CSRF tokens.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from hotline.auth.permissions import authenticate_page, can, department_scope, requires
from hotline.cases.errors import InvalidInput
from hotline.cases.forms import ZhForm
from hotline.extensions import db
from hotline.kb import entries
from hotline.kb import feedback as kb_feedback
from hotline.kb.input import parse_entry
from hotline.models import Department, KbEntry, KbFeedback
from hotline.models.knowledge import KB_KINDS, SERVICE_FIELDS

kb_pages = Blueprint("kb_pages", __name__)
kb_pages.before_request(authenticate_page)


class EntryForm(ZhForm):
    kind = SelectField("条目类型", choices=KB_KINDS)
    code = StringField("事项编码")
    title = StringField("标题")
    department_code = StringField("责任单位代码")
    category = StringField("分类（完整路径）")
    tags = StringField("标签（用逗号分隔）")
    districts = StringField("适用区县/街道代码（空为全市）")
    valid_from = StringField("生效日期")
    valid_to = StringField("失效日期")
    body = TextAreaField("正文")


for _key, _label in SERVICE_FIELDS.items():
    setattr(EntryForm, f"f_{_key}", TextAreaField(_label))


def _split(text: str) -> list[str]:
    return [t.strip() for t in (text or "").replace("，", ",").replace("、", ",").split(",") if t.strip()]


def _scope() -> Department | None:
    return department_scope(current_user)  # None for the admin: every unit


def _own(entry_id: int) -> KbEntry:
    entry = db.session.get(KbEntry, entry_id)
    if entry is None:
        abort(404)
    if not entries.owns(current_user, entry):
        abort(403)
    return entry


@kb_pages.get("/")
@requires("kb.edit")
def index():
    scope = _scope()
    query = sa.select(KbEntry).outerjoin(Department, Department.id == KbEntry.department_id)
    tasks = sa.select(KbFeedback).where(KbFeedback.status == "open")
    if scope is not None:
        query = query.where(Department.path.startswith(scope.path))
        tasks = tasks.join(Department, Department.id == KbFeedback.department_id).where(
            Department.path.startswith(scope.path)
        )
    rows = db.session.scalars(query.order_by(KbEntry.status, KbEntry.code).limit(500)).all()
    return render_template(
        "kb/portal.html",
        rows=rows,
        tasks=db.session.scalars(tasks.limit(200)).all(),
        scope=scope,
        actions=entries.TRANSITIONS,
        reviewer=can(current_user, "kb.review"),
        csrf_form=FlaskForm(),
    )


def _body(form: EntryForm) -> dict:
    return {
        "kind": form.kind.data,
        "code": form.code.data,
        "title": form.title.data,
        "body": form.body.data,
        "department_code": form.department_code.data,
        "category": form.category.data,
        "tags": _split(form.tags.data),
        "districts": _split(form.districts.data),
        "fields": {k: getattr(form, f"f_{k}").data or "" for k in SERVICE_FIELDS},
        "valid_from": form.valid_from.data,
        "valid_to": form.valid_to.data,
    }


@kb_pages.route("/new", methods=["GET", "POST"])
@kb_pages.route("/<int:entry_id>/edit", methods=["GET", "POST"])
@requires("kb.edit")
def edit(entry_id: int | None = None):
    entry = _own(entry_id) if entry_id else None
    form = EntryForm()
    if request.method == "GET":
        if entry is not None:
            form.process(
                data={
                    "kind": entry.kind,
                    "code": entry.code or "",
                    "title": entry.title,
                    "body": entry.body,
                    "department_code": entry.department.code if entry.department else "",
                    "category": entry.category.path if entry.category else "",
                    "tags": "，".join(entry.tags or []),
                    "districts": "，".join(entry.districts or []),
                    "valid_from": entry.valid_from.isoformat() if entry.valid_from else "",
                    "valid_to": entry.valid_to.isoformat() if entry.valid_to else "",
                    **{f"f_{k}": (entry.fields or {}).get(k, "") for k in SERVICE_FIELDS},
                }
            )
        elif current_user.department is not None:
            form.department_code.data = current_user.department.code
        return render_template("kb/edit.html", form=form, entry=entry)
    if form.validate_on_submit():
        try:
            data = parse_entry(_body(form), entry)
            entries.check_edit(current_user, entry, data.department)
            if entry is None:
                entry = entries.create(data, current_user, datetime.now(UTC))
            else:
                entries.check_edit(current_user, entry, None)
                entries.update(entry, data, current_user, datetime.now(UTC))
            db.session.commit()
            flash(f"知识条目「{entry.title}」已保存（第 {entry.version} 版）", "success")
            return redirect(url_for("kb_pages.index"))
        except InvalidInput as err:
            for name, message in err.fields.items():
                target = getattr(form, name, None) or getattr(form, "f_" + name.split(".")[-1], None) or form.title
                target.errors = [*target.errors, message]
        except entries.KbRefused as err:
            db.session.rollback()
            form.title.errors = [*form.title.errors, err.message]
    return render_template("kb/edit.html", form=form, entry=entry), 400


@kb_pages.post("/<int:entry_id>/<action>")
@requires("kb.edit")
def act(entry_id: int, action: str):
    if action not in entries.TRANSITIONS:
        abort(404)
    form = FlaskForm()
    if not form.validate_on_submit():
        flash("页面已过期，请刷新后重试", "error")
        return redirect(url_for("kb_pages.index"))
    entry = _own(entry_id)
    try:
        entries.transition(entry, action, current_user, datetime.now(UTC))
        db.session.commit()
        flash(f"「{entry.title}」：{entries.TRANSITIONS[action][2]}", "success")
    except entries.KbRefused as err:
        db.session.rollback()
        flash(err.message, "error")
    return redirect(url_for("kb_pages.index"))


@kb_pages.post("/feedback/<int:feedback_id>/done")
@requires("kb.edit")
def feedback_done(feedback_id: int):
    form = FlaskForm()
    fb = db.session.get(KbFeedback, feedback_id)
    if fb is None:
        abort(404)
    scope = _scope()
    if scope is not None and not (fb.department and fb.department.path.startswith(scope.path)):
        abort(403)
    if form.validate_on_submit():
        kb_feedback.resolve(fb, current_user, datetime.now(UTC))
        db.session.commit()
        flash("反馈已处理", "success")
    return redirect(url_for("kb_pages.index"))

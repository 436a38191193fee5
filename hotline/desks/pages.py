"""Desk pages: notices (/notifications), the citizen file by phone (/citizens/file), saved case filters
(/cases/filters), the administrator's home page (/home/admin); the bell's unread count for every staff page."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from hotline import audit
from hotline.auth.permissions import access_case, authenticate_page, can, requires
from hotline.auth.safety import safe_next
from hotline.cases.errors import DomainError
from hotline.citizens.file import lookup_file
from hotline.citizens.phones import try_normalize
from hotline.desks import notices
from hotline.extensions import db
from hotline.notes import operations as notes
from hotline.search import saved

desks_bp = Blueprint("desks", __name__)
desks_bp.before_request(authenticate_page)

ADMIN_LINKS = (
    ("单位与地名", "org.index", "org.admin"),
    ("派单规则", "admin.routing_rules", "routing.admin"),
    ("归口表", "catmap.catmap_page", "routing.admin"),
    ("时限与节假日", "policy.sla_page", "sla.admin"),
    ("审计日志", "audit.page", "audit.view"),
    ("时限监控", "monitor.wall", "monitor.view"),
    ("工单查询", "cases.index", "case.view"),
)


@desks_bp.app_context_processor
def _bell():
    def unread_notices() -> int:
        if not current_user.is_authenticated or not can(current_user, "notification.view"):
            return 0
        return notices.unread_count(current_user)

    return {"unread_notices": unread_notices}


@desks_bp.get("/notifications")
@requires("notification.view")
def notifications():
    unread_only = request.args.get("unread") == "1"
    return render_template(
        "desks/notifications.html",
        items=notices.items(current_user, unread_only, limit=200),
        unread_only=unread_only,
    )


@desks_bp.post("/notifications/read")
@requires("notification.view")
def read_notifications():
    raw = request.form.get("id", "").strip()
    ids = [int(raw)] if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    notices.mark_read(current_user, ids, datetime.now(UTC))
    db.session.commit()
    target = safe_next(request.form.get("next"))
    return redirect(target or url_for("desks.notifications"))


@desks_bp.get("/citizens/file")
@requires("citizen.view")
def citizen_file():
    """一号一档 opened by phone number without a ringing call; every opening is in the audit log."""
    raw = (request.args.get("phone") or "").strip()[:40]
    phone = try_normalize(raw) if raw else None
    summary = lookup_file(phone, datetime.now(UTC)) if phone else None
    problem = None
    if raw and phone is None:
        problem = "电话号码格式不正确，请输入手机号或带区号的固定电话"
    elif phone is not None and summary is None:
        problem = "该号码没有档案（未来电或未登记过工单）"
    if summary is not None:
        audit.record(
            current_user,
            "citizen.file_view",
            "citizen",
            summary["citizen_id"],
            ip=request.remote_addr or "",
            detail="按电话号码查阅一号一档",
        )
        db.session.commit()
    return render_template("desks/citizen_file.html", raw=raw, summary=summary, problem=problem)


@desks_bp.post("/cases/filters")
@requires("case.view")
def save_filter():
    try:
        row = saved.save(current_user, request.form.get("name", ""), request.form.get("query", ""))
    except DomainError as err:
        flash(err.message, "error")
        return redirect(url_for("cases.index") + "?" + saved.clean_query(request.form.get("query", "")))
    db.session.commit()
    flash(f"已保存常用筛选「{row.name}」", "success")
    return redirect(url_for("cases.index") + "?" + row.query)


@desks_bp.post("/cases/filters/<int:filter_id>/delete")
@requires("case.view")
def delete_filter(filter_id: int):
    try:
        saved.delete(current_user, filter_id)
    except DomainError as err:
        flash(err.message, "error")
    else:
        db.session.commit()
        flash("已删除常用筛选", "success")
    return redirect(url_for("cases.index"))


@desks_bp.get("/home/admin")
@requires("org.admin")
def admin_home():
    links = [
        (label, url_for(endpoint))
        for label, endpoint, cap in ADMIN_LINKS
        if endpoint in current_app.view_functions and can(current_user, cap)
    ]
    return render_template("desks/admin_home.html", links=links)


@desks_bp.post("/cases/<number>/notes")
@requires("case.view")
def add_note(number: str):
    case = access_case(current_user, number, "case.view")
    try:
        notes.add(case, current_user, request.form.get("text", ""), datetime.now(UTC))
    except DomainError as err:
        flash(err.message, "error")
    else:
        db.session.commit()
        flash("已添加内部备注", "success")
    return redirect(url_for("cases.detail", number=case.number) + "#case-notes")

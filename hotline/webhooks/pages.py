"""The admin page /admin/webhooks: subscriptions (add, pause/resume, clear the flag, delete), each one's
delivery log with the answer codes and a 重新推送 button. zh-CN, CSRF (the app-wide guard); edits go through
subscriptions.py."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from hotline.auth.permissions import authenticate_page, requires
from hotline.cases.errors import DomainError
from hotline.cases.forms import ZhForm
from hotline.extensions import db
from hotline.webhooks import subscriptions as subs
from hotline.webhooks.payloads import EVENTS

webhooks_bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")
webhooks_bp.before_request(authenticate_page)


class CsrfForm(ZhForm):
    """Only for the page's csrf_token field: every POST is checked by the app-wide CSRF guard
    (hotline/auth/security.py; API tokens skip it)."""


def _private() -> bool:
    return bool(current_app.config["HOTLINE"].webhook_allow_private)


def _page(status: int = 200, values: dict | None = None):
    rows = subs.all_subscriptions()
    chosen = request.args.get("id", type=int)
    shown = next((s for s in rows if s.id == chosen), None)
    return (
        render_template(
            "admin/webhooks.html",
            rows=rows,
            events=EVENTS,
            form=CsrfForm(),
            shown=shown,
            deliveries=subs.deliveries(shown, 50) if shown else [],
            values=values or {},
        ),
        status,
    )


@webhooks_bp.get("")
@requires("webhook.admin")
def index():
    return _page()


@webhooks_bp.post("")
@requires("webhook.admin")
def add():
    values = {
        "name": request.form.get("name", "").strip(),
        "url": request.form.get("url", ""),
        "events": request.form.getlist("events"),
        "secret": request.form.get("secret", ""),
        "may_unmask": request.form.get("may_unmask") == "y",
        "source": request.form.get("source", "").strip(),
    }
    try:
        subs.create(values, current_user, datetime.now(UTC), _private())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _page(400, values)
    db.session.commit()
    flash("已添加推送订阅", "success")
    return redirect(url_for("webhooks.index"))


@webhooks_bp.post("/<int:sub_id>")
@requires("webhook.admin")
def change(sub_id: int):
    sub = subs.get(sub_id)
    op = request.form.get("op", "")
    now = datetime.now(UTC)
    if op == "delete":
        subs.delete(sub, current_user)
        message = "已删除推送订阅"
    elif op == "redeliver":
        subs.redeliver(sub, request.form.get("outbox_id", type=int) or 0, current_user, now)
        message = "已重新加入推送队列"
    elif op in ("pause", "resume", "unflag"):
        values = {"active": op == "resume"} if op != "unflag" else {"flagged": False}
        subs.update(sub, values, current_user, now, _private())
        message = {"pause": "已停用", "resume": "已启用", "unflag": "已清除失败标记"}[op]
    else:
        flash("未知的操作", "error")
        return redirect(url_for("webhooks.index"))
    db.session.commit()
    flash(message, "success")
    target = {"id": sub_id} if op == "redeliver" else {}
    return redirect(url_for("webhooks.index", **target))

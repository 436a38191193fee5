"""Login / logout / change-password pages (Flask-Login sessions, CSRF-protected forms, rate-limited).

Every login attempt takes the same path whether or not the user exists (a dummy Argon2 check for unknown users),
is counted against the account name's lockout (hotline/auth/lockout.py) and leaves a ``login_events`` row.
"""

from __future__ import annotations

import math
import time

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from hotline.auth import audit, lockout, sessions
from hotline.auth.passwords import MAX_LENGTH, hash_password, needs_rehash, problems, verify_nothing, verify_password
from hotline.auth.permissions import Role, authenticate_page, public
from hotline.auth.safety import safe_next
from hotline.extensions import db, limiter
from hotline.models import User
from hotline.models.types import utcnow

auth_bp = Blueprint("auth", __name__)
auth_bp.before_request(authenticate_page)  # login, logout, / and the password page are @public

HOME_BY_ROLE = {
    Role.DEPARTMENT_HANDLER: "departments.inbox",
    Role.DEPARTMENT_ADMIN: "departments.inbox",
    Role.DISPATCHER: "console.dispatch_queue",
    Role.MONITOR: "monitor.wall",  # issue 20: every role lands on its own page
    Role.SUPERVISOR: "rating_workbench.supervisor_queue",
    Role.ADMIN: "desks.admin_home",
    Role.AUDITOR: "audit.page",  # 审计员: the audit log only (hotline/audit)
}
FAILED = "用户名或密码错误"
EXPIRED = "一次性密码已过期，请联系管理员重置密码"
TOTP_PENDING = "_totp_pending"  # session key: the user who passed the password and owes a code (5 minutes)


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128)])


class PasswordForm(FlaskForm):
    current = PasswordField("当前密码", validators=[DataRequired("请输入当前密码"), Length(max=128)])
    new = PasswordField("新密码", validators=[DataRequired("请输入新密码"), Length(max=MAX_LENGTH)])
    confirm = PasswordField(
        "再次输入新密码", validators=[DataRequired("请再次输入新密码"), EqualTo("new", "两次输入的新密码不一致")]
    )


def home_for(user) -> str:
    return url_for(HOME_BY_ROLE.get(user.role, "console.index"))


def _settings():
    return current_app.config["HOTLINE"]


def _login_limit() -> str:
    return _settings().login_rate_limit


def _locked_answer(form: LoginForm, until):
    seconds = lockout.seconds_left(until)
    flash(f"登录失败次数过多，该账号已暂时锁定，请 {math.ceil(seconds / 60)} 分钟后再试", "error")
    response = current_app.make_response((render_template("auth/login.html", form=form), 429))
    response.headers["Retry-After"] = str(seconds)
    return response


def _attempt(form: LoginForm):
    """Check one submitted login: the same work for an unknown user, a wrong password and an inactive user."""
    username = form.username.data.strip()
    until = lockout.locked_until(username)
    if until is not None:
        audit.record("locked", username, reason="locked")  # refused unchecked: no hashing, not counted
        db.session.commit()
        return _locked_answer(form, until)
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        ok, reason = verify_nothing(form.password.data), "unknown_user"
    else:
        ok, reason = verify_password(user.password_hash, form.password.data), "bad_password"
        if ok and not user.active:
            ok, reason = False, "inactive"
    if ok and user.must_change_password and user.password_expires_at and user.password_expires_at < utcnow():
        audit.record("failure", username, user, "expired")  # the right one-time password, too late: not counted
        db.session.commit()
        flash(EXPIRED, "error")
        return render_template("auth/login.html", form=form)
    if not ok:
        until = lockout.record_failure(username, lockout.Policy.of(_settings()))
        audit.record("failure", username, user, reason)
        db.session.commit()
        if until is not None:
            return _locked_answer(form, until)
        flash(FAILED, "error")
        return render_template("auth/login.html", form=form)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(form.password.data)
    if user.totp_enabled_at is not None:  # the second step: the lock count stands until the code is right too
        session[TOTP_PENDING] = {"uid": user.id, "at": int(time.time()), "next": safe_next(request.args.get("next"))}
        db.session.commit()
        return redirect(url_for("totp.verify"))
    return finish_login(user)


def finish_login(user: User, next_url: str | None = None):
    """Both factors passed: clear the lock count, audit, open the session, go on."""
    username = user.username
    session.pop(TOTP_PENDING, None)
    lockout.record_success(username)
    audit.record("success", username, user)
    sessions.open_session(user)
    db.session.commit()
    if user.must_change_password:
        flash("这是一次性密码，请先设置您自己的新密码", "info")
        return redirect(url_for("auth.change_password"))
    return redirect(next_url or safe_next(request.args.get("next")) or home_for(user))


@auth_bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        return _attempt(form)
    return render_template("auth/login.html", form=form)


@auth_bp.post("/logout")
@public
def logout():
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        sessions.close_session(user)  # every session of this user ends, a copied cookie included
        audit.record("logout", user.username, user)
        db.session.commit()
    else:
        sessions.forget()
    return redirect(url_for("auth.login"))


@auth_bp.route("/account/password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])  # guesses at the current password count like logins
@public  # any signed-in staff member, for their own account only; anonymous users go to the login page
def change_password():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    user = current_user._get_current_object()
    form = PasswordForm()
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.current.data):
            form.current.errors.append("当前密码不正确")
        elif form.new.data == form.current.data:
            form.new.errors.append("新密码不能与当前密码相同")
        elif weak := problems(form.new.data, user.username, _settings().password_min_length):
            form.new.errors.extend(weak)
        else:
            user.password_hash = hash_password(form.new.data)
            user.must_change_password, user.password_expires_at, user.demo_password = False, None, False
            sessions.renew(user)  # every other session of this user ends; this one goes on
            audit.record("password", user.username, user)
            db.session.commit()
            flash("密码已修改，其他设备上的登录已全部退出", "success")
            return redirect(home_for(user))
    return render_template(
        "auth/password.html", form=form, forced=user.must_change_password, min_length=_settings().password_min_length
    )


@auth_bp.get("/")
@public
def root():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))

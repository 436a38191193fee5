"""Login / logout pages (Flask-Login sessions, CSRF-protected form, rate-limited)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from hotline.auth.passwords import verify_password
from hotline.auth.permissions import Role, authenticate_page, public
from hotline.auth.safety import safe_next
from hotline.extensions import db, limiter
from hotline.models import User

auth_bp = Blueprint("auth", __name__)
auth_bp.before_request(authenticate_page)  # login, logout and / are @public

HOME_BY_ROLE = {
    Role.DEPARTMENT_HANDLER: "departments.inbox",
    Role.DEPARTMENT_ADMIN: "departments.inbox",
    Role.DISPATCHER: "console.dispatch_queue",
}


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128)])


def home_for(user) -> str:
    return url_for(HOME_BY_ROLE.get(user.role, "console.index"))


def _login_limit() -> str:
    return current_app.config["HOTLINE"].login_rate_limit


@auth_bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(sa.select(User).where(User.username == form.username.data.strip()))
        if user and user.active and verify_password(user.password_hash, form.password.data):
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or home_for(user))
        flash("用户名或密码错误", "error")
    return render_template("auth/login.html", form=form)


@auth_bp.post("/logout")
@public
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


@auth_bp.get("/")
@public
def root():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))

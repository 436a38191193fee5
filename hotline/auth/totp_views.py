"""The second step of a login (/login/totp: a code from the authenticator or a recovery code) and the enrolment page
(/account/totp: a QR code made on the server, confirmed with one code; the recovery codes shown once).

Wrong codes count against the account name's lockout exactly like wrong passwords (hotline/auth/lockout.py) and
leave a ``login_events`` row; the password step alone never clears the count."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from hotline.auth import audit, lockout, totp
from hotline.auth.forced import totp_required
from hotline.auth.permissions import public
from hotline.auth.views import TOTP_PENDING, finish_login, home_for
from hotline.extensions import db, limiter
from hotline.models import User

totp_bp = Blueprint("totp", __name__)
PENDING_SECONDS = 300


class CodeForm(FlaskForm):
    code = StringField("验证码", validators=[DataRequired("请输入验证码"), Length(max=32)])


def _pending_user() -> User | None:
    pending = session.get(TOTP_PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop(TOTP_PENDING, None)
        return None
    user = db.session.get(User, pending.get("uid"))
    return user if user is not None and user.active and user.totp_enabled_at is not None else None


def _limit() -> str:
    return current_app.config["HOTLINE"].login_rate_limit


def _locked(form, until):
    session.pop(TOTP_PENDING, None)
    seconds = lockout.seconds_left(until)
    flash(f"验证失败次数过多，该账号已暂时锁定，请 {max(1, seconds // 60)} 分钟后再试", "error")
    response = current_app.make_response((render_template("auth/totp_login.html", form=form), 429))
    response.headers["Retry-After"] = str(seconds)
    return response


@totp_bp.route("/login/totp", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
@public  # between the password and the session: the pending login in the session cookie
def verify():
    user = _pending_user()
    if user is None:
        flash("登录已超时，请重新输入用户名和密码", "error")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("auth/totp_login.html", form=form)
    until = lockout.locked_until(user.username)
    if until is not None:
        audit.record("locked", user.username, user, reason="locked")
        db.session.commit()
        return _locked(form, until)
    code = form.code.data.strip()
    digits = code.replace(" ", "")
    ok = totp.check_code(user, digits) if digits.isdigit() else totp.use_recovery_code(user, code)
    if ok:
        if not digits.isdigit():
            flash(f"已使用一个恢复码，还剩 {totp.recovery_codes_left(user)} 个", "warning")
        return finish_login(user, session.get(TOTP_PENDING, {}).get("next"))
    until = lockout.record_failure(user.username, lockout.Policy.of(current_app.config["HOTLINE"]))
    audit.record("failure", user.username, user, "bad_totp")
    db.session.commit()
    if until is not None:
        return _locked(form, until)
    flash("验证码不正确或已使用过，请输入身份验证器上最新的 6 位数字，或一个恢复码", "error")
    return render_template("auth/totp_login.html", form=form)


@totp_bp.route("/account/totp", methods=["GET", "POST"])
@public  # any signed-in staff member, their own account; also reachable while enrolment is required
def enrol():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    user = current_user._get_current_object()
    form = CodeForm()
    required = totp_required(user, current_app.config["HOTLINE"])
    if user.totp_enabled_at is not None:
        return render_template(
            "auth/totp_enrol.html", user=user, enabled=True, left=totp.recovery_codes_left(user), required=required
        )
    secret = totp.start_enrolment(user)
    db.session.commit()
    if form.validate_on_submit():
        codes = totp.confirm_enrolment(user, form.code.data)
        if codes is not None:
            audit.record("totp", user.username, user)
            db.session.commit()
            return render_template("auth/totp_codes.html", codes=codes, home=home_for(user))
        form.code.errors.append("验证码不正确：请输入身份验证器上显示的最新 6 位数字")
    uri = totp.provisioning_uri(user, secret)
    return render_template(
        "auth/totp_enrol.html",
        user=user,
        enabled=False,
        form=form,
        secret=secret,
        qr=totp.qr_data_uri(uri),
        required=required,
    )

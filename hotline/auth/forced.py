"""What a signed-in user must do before anything else: replace a one-time password (set-up, import, a reset) and,
for the roles that require it, enrol a second factor (hotline/auth/totp.py).

Pages redirect to the page that does it; the API answers 403 with the code ``password_change_required`` /
``totp_enrolment_required`` (a token of such a user too). Public endpoints (the login, logout and password pages,
citizens' pages, health) stay open.
"""

from __future__ import annotations

from flask import Flask, current_app, redirect, request, session, url_for
from flask_login import current_user

from hotline.auth.permissions import is_public
from hotline.cases.errors import NotAllowed
from hotline.db.dialect import autocommit_reads

PASSWORD_FIRST = "请先修改初始密码（一次性密码）后再使用系统：打开 /account/password"  # noqa: S105 - a message
TOTP_FIRST = "您的角色要求两步验证：请先在 /account/totp 绑定身份验证器后再使用系统"


def totp_required(user, settings) -> bool:
    roles = {r.strip() for r in settings.totp_roles.split(",") if r.strip()}
    return str(user.role) in roles


def pending_step(user, settings, by_token: bool = False) -> str | None:
    """ "password", "totp" or None: the step ``user`` must take before using the system.

    The second factor guards interactive logins: a request with an API token (made by a user who logged in) is not
    sent to enrolment. seed --demo's accounts are exempt too — they exist only outside production, which refuses to
    start while one has the demo password (hotline/users/setup.py)."""
    if getattr(user, "must_change_password", False):
        return "password"
    if by_token or user.demo_password or user.totp_enabled_at is not None:
        return None
    return "totp" if totp_required(user, settings) else None


def init_app(app: Flask) -> None:
    @app.before_request
    def _first_things_first():
        if request.endpoint is None or is_public(request.endpoint):
            return None
        if getattr(current_app.view_functions.get(request.endpoint), "_read_only", False):
            autocommit_reads()  # before the first statement (loading the user), as authenticate_api does
        if not getattr(current_user, "is_authenticated", False):
            return None
        # an API token, or a session opened by single sign-on (the identity provider checks its own second factor)
        by_token = request.headers.get("Authorization", "").lower().startswith("bearer ") or session.get("_sso")
        step = pending_step(current_user, current_app.config["HOTLINE"], by_token)
        if step is None:
            return None
        if request.path.startswith("/api/"):
            if step == "password":
                raise NotAllowed(PASSWORD_FIRST, code="password_change_required")
            raise NotAllowed(TOTP_FIRST, code="totp_enrolment_required")
        target = "auth.change_password" if step == "password" else "totp.enrol"
        return redirect(url_for(target))

"""Session and bearer-token authentication, CSRF for browser posts, security headers."""

from __future__ import annotations

from flask import Flask, request
from flask_login import AnonymousUserMixin, current_user

from hotline.auth.permissions import can
from hotline.auth.tokens import user_for_token
from hotline.extensions import csrf, db, login_manager
from hotline.models import User

# Endpoints called by machines or by citizens with a signed token instead of a session.
CSRF_EXEMPT_PREFIXES = ("/api/v1/cti/", "/api/v1/ratings", "/api/v1/sms/", "/wechat", "/open311/", "/healthz")


CSRF_EXEMPT_BLUEPRINTS = "hotline_csrf_exempt_blueprints"  # app.extensions key: names of machine-only blueprints


class Anonymous(AnonymousUserMixin):
    role = None
    department = None
    is_department_user = False


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def init_app(app: Flask) -> None:
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    app.jinja_env.globals["can"] = lambda capability: can(current_user, capability)  # {% if can("kb.edit") %}

    @login_manager.user_loader
    def _load_user(user_id: str):
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        return user if user and user.active else None

    @login_manager.request_loader
    def _load_from_token(req):
        token = bearer_token()
        return user_for_token(token) if token else None

    app.extensions[CSRF_EXEMPT_BLUEPRINTS] = set()  # blueprints a test or bench app serves to machines

    @app.before_request
    def _csrf_for_browsers():
        if request.method in ("GET", "HEAD", "OPTIONS") or bearer_token():
            return
        if request.path.startswith(CSRF_EXEMPT_PREFIXES) or request.blueprint in app.extensions[CSRF_EXEMPT_BLUEPRINTS]:
            return
        csrf.protect()

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.teardown_appcontext
    def _rollback(exc):
        if exc is not None:
            db.session.rollback()

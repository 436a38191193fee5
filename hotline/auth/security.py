"""Session and bearer-token authentication, CSRF for browser posts, security headers.

- A request carrying ``Authorization: Bearer …`` is authenticated by that token alone: its session cookie, if
  any, is ignored, and only a valid token exempts it from the CSRF check (a junk token plus a cookie is refused).
- A session counts only while its generation is the user's current one (hotline/auth/sessions.py).
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_login import AnonymousUserMixin, current_user

from hotline.auth import forced, headers, sessions
from hotline.auth.passwords import warm_up
from hotline.auth.permissions import can
from hotline.auth.tokens import user_for_token
from hotline.extensions import csrf, db, login_manager
from hotline.models import User

# Endpoints called by machines or by citizens with a signed token instead of a session.
CSRF_EXEMPT_PREFIXES = ("/api/v1/cti/", "/api/v1/ratings", "/api/v1/sms/", "/wechat", "/open311/", "/healthz")


CSRF_EXEMPT_BLUEPRINTS = "hotline_csrf_exempt_blueprints"  # app.extensions key: names of machine-only blueprints
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class Anonymous(AnonymousUserMixin):
    role = None
    department = None
    is_department_user = False


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def token_user() -> User | None:
    """The active user of this request's valid bearer token (looked up once per request), else None."""
    if "hotline_token_user" not in g:
        token = bearer_token()
        g.hotline_token_user = user_for_token(token) if token else None
    return g.hotline_token_user


def init_app(app: Flask) -> None:
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    app.jinja_env.globals["can"] = lambda capability: can(current_user, capability)  # {% if can("kb.edit") %}
    warm_up()

    @login_manager.user_loader
    def _load_user(user_id: str):
        if bearer_token():
            return None  # the token alone decides (request loader below)
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or not user.active or not sessions.is_current(user):
            sessions.forget()  # logged out elsewhere, password changed, or deactivated: the cookie drops the login
            return None
        return user

    @login_manager.request_loader
    def _load_from_token(req):
        return token_user()

    app.extensions[CSRF_EXEMPT_BLUEPRINTS] = set()  # blueprints a test or bench app serves to machines

    @app.before_request
    def _csrf_for_browsers():
        if request.method in SAFE_METHODS:
            return
        if bearer_token() and token_user() is not None:
            return  # authenticated by a valid token: not a browser riding on its cookie
        if request.path.startswith(CSRF_EXEMPT_PREFIXES) or request.blueprint in app.extensions[CSRF_EXEMPT_BLUEPRINTS]:
            return
        csrf.protect()

    forced.init_app(app)  # a one-time password is changed (and a required second factor enrolled) first
    headers.init_app(app)

    @app.teardown_appcontext
    def _rollback(exc):
        if exc is not None:
            db.session.rollback()

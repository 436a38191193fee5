"""Single sign-on: OpenID Connect login (Authlib) against the province's identity provider (统一身份认证).

Off while HOTLINE_OIDC_ISSUER is empty. ``/login/sso`` sends the browser to the provider (authorization code flow,
discovery from ``ISSUER/.well-known/openid-configuration``); ``/login/sso/callback`` takes the code, reads the
claims (ID token + userinfo) and signs the user in:

- matched by the provider's subject (``users.oidc_subject`` = issuer|sub) once linked, else by the username claim
  (HOTLINE_OIDC_USERNAME_CLAIM, default ``preferred_username``), which links the account;
- unknown: created when HOTLINE_OIDC_CREATE_USERS (role from the role claim, else HOTLINE_OIDC_DEFAULT_ROLE; no
  password: it logs in through the provider only), otherwise refused with a message;
- HOTLINE_OIDC_ROLE_CLAIM + HOTLINE_OIDC_ROLE_MAP ("claim value:role,…"): the role follows the provider at every
  login (a change is audited as ``user.role``); without them the local role stays;
- the provider is responsible for its second factor: a session opened by SSO is not sent to TOTP enrolment.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, current_app, flash, redirect, session, url_for

from hotline import audit as admin_audit
from hotline.auth import audit, sessions
from hotline.auth.permissions import public
from hotline.auth.roles import ROLE_LABELS
from hotline.auth.views import home_for
from hotline.extensions import db
from hotline.models import User

log = logging.getLogger(__name__)
sso_bp = Blueprint("sso", __name__)
oauth = OAuth()
SSO_SESSION = "_sso"  # session key: this session was opened through the identity provider


def _settings():
    return current_app.config["HOTLINE"]


def enabled(settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def _install(state) -> None:
    app, settings = state.app, state.app.config["HOTLINE"]
    app.context_processor(lambda: {"sso_label": settings.oidc_label if enabled(settings) else ""})
    if not enabled(settings):
        return
    oauth.init_app(app)
    oauth.register(
        "sso",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc_scopes},
    )


sso_bp.record_once(_install)


def role_map(settings) -> dict[str, str]:
    pairs = (p.split(":", 1) for p in settings.oidc_role_map.split(",") if ":" in p)
    return {k.strip(): v.strip() for k, v in pairs if v.strip() in ROLE_LABELS}


def mapped_role(claims: dict, settings) -> str | None:
    if not settings.oidc_role_claim:
        return None
    values = claims.get(settings.oidc_role_claim)
    values = [values] if isinstance(values, str) else list(values or [])
    table = role_map(settings)
    return next((table[v] for v in values if v in table), None)


def user_for(claims: dict, settings) -> tuple[User | None, str]:
    """The account for these claims (linked, matched, or created), or (None, reason)."""
    subject = f"{settings.oidc_issuer.rstrip('/')}|{claims.get('sub', '')}"[:255]
    username = str(claims.get(settings.oidc_username_claim) or "").strip()[:64]
    user = db.session.scalar(sa.select(User).where(User.oidc_subject == subject))
    if user is None and username:
        user = db.session.scalar(sa.select(User).where(User.username == username, User.oidc_subject.is_(None)))
    role = mapped_role(claims, settings)
    if user is None:
        if not settings.oidc_create_users or not username:
            return None, f"统一身份认证账号「{username or claims.get('sub', '')}」尚未在本系统开通，请联系管理员"
        user = User(
            username=username,
            name=str(claims.get(settings.oidc_name_claim) or username)[:64],
            role=role or settings.oidc_default_role,
            password_hash="!",  # noqa: S106 - no local password: this account signs in through the provider
        )
        db.session.add(user)
        db.session.flush()
        admin_audit.record(None, "user.create", "user", user.username, after={"role": user.role, "via": "sso"})
    elif role and role != user.role:
        before = user.role
        user.role = role
        sessions.revoke_all(user)
        admin_audit.record(
            None,
            "user.role",
            "user",
            user.username,
            before={"role": before},
            after={"role": role},
            detail="统一身份认证的角色声明",
        )
    if not user.active:
        return None, "该账号已停用"
    user.oidc_subject = subject
    return user, ""


@sso_bp.get("/login/sso")
@public
def start():
    if not enabled(_settings()):
        flash("未启用统一身份认证登录", "error")
        return redirect(url_for("auth.login"))
    return oauth.sso.authorize_redirect(url_for("sso.callback", _external=True))


@sso_bp.get("/login/sso/callback")
@public
def callback():
    settings = _settings()
    if not enabled(settings):
        return redirect(url_for("auth.login"))
    try:
        token = oauth.sso.authorize_access_token()
        claims = dict(token.get("userinfo") or {})
        claims.update(oauth.sso.userinfo(token=token))
    except Exception as err:  # authlib's OAuthError, a mismatching state, the provider unreachable …
        log.warning("统一身份认证登录失败：%s", err)
        flash("统一身份认证登录失败，请重试或使用账号密码登录", "error")
        return redirect(url_for("auth.login"))
    user, reason = user_for(claims, settings)
    name = str(claims.get(settings.oidc_username_claim) or claims.get("sub", ""))
    if user is None:
        audit.record("failure", name, None, "sso_refused")
        db.session.commit()
        flash(reason, "error")
        return redirect(url_for("auth.login"))
    audit.record("success", user.username, user, "sso")
    sessions.open_session(user)
    session[SSO_SESSION] = True
    db.session.commit()
    return redirect(home_for(user))

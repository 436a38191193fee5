"""Single sign-on account rules (issue 17, hotline/auth/oidc.py) on the real database: refused when creation is off,
created with the mapped or default role, a role that follows the provider audited, a disabled account refused. The
whole login through a real provider in a browser: tests/e2e/test_accounts_oidc.py."""

from __future__ import annotations

import dataclasses
import uuid

import sqlalchemy as sa


def settings(app, **changes):
    base = {
        "oidc_issuer": "https://idp.example.gov.cn",
        "oidc_client_id": "hotline",
        "oidc_role_claim": "groups",
        "oidc_role_map": "g-admins:admin,g-disp:dispatcher,g-bad:king",
    }
    return dataclasses.replace(app.config["HOTLINE"], **(base | changes))


def test_unknown_users_are_refused_unless_creation_is_allowed(app):
    from hotline.auth.oidc import role_map, user_for
    from hotline.extensions import db
    from hotline.models import AuditEvent

    name = "sso_" + uuid.uuid4().hex[:6]
    claims = {"sub": "s-" + name, "preferred_username": name, "name": "统一用户", "groups": ["other", "g-disp"]}
    with app.app_context():
        assert role_map(settings(app)) == {"g-admins": "admin", "g-disp": "dispatcher"}  # unknown roles dropped
        user, reason = user_for(claims, settings(app, oidc_create_users=False))
        assert user is None and "尚未在本系统开通" in reason
        user, _ = user_for(claims, settings(app, oidc_create_users=True))
        assert (user.username, user.role, user.oidc_subject) == (
            name,
            "dispatcher",
            f"https://idp.example.gov.cn|s-{name}",
        )
        db.session.commit()
        # the provider's groups change: the role follows, audited
        user, _ = user_for({**claims, "groups": ["g-admins"]}, settings(app))
        assert user.role == "admin"
        row = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "user.role", AuditEvent.target_id == name)
        )
        assert row.before == {"role": "dispatcher"} and row.after == {"role": "admin"}
        # no mapped group: the local role stays; no role claim configured: likewise
        user, _ = user_for({**claims, "groups": ["other"]}, settings(app))
        assert user.role == "admin"
        user.active = False
        db.session.commit()
        assert user_for(claims, settings(app)) == (None, "该账号已停用")
        db.session.rollback()
        # created without any role claim: the default role
        other = "sso_" + uuid.uuid4().hex[:6]
        user, _ = user_for(
            {"sub": other, "preferred_username": other}, settings(app, oidc_create_users=True, oidc_role_claim="")
        )
        assert user.role == "agent" and user.password_hash == "!"  # no local password: the provider only
        db.session.rollback()

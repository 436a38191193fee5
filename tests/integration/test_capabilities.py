"""Permissions are declared, not written: every view names a capability (@requires) or says @public, and the
capability table (hotline/auth/permissions.py CAPABILITIES) alone decides who gets a 403."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hotline.auth.permissions import ALL_CAPABILITIES, CAPABILITIES, PUBLIC_ENDPOINTS, Role
from tests import counts

MISSING_CASE = "GD20000101-000001"
MISSING_ID = 999999999
# One demo user per role (hotline/seed/city.py).
USERS = {
    Role.AGENT: "agent1",
    Role.DISPATCHER: "dispatcher1",
    Role.MONITOR: "monitor1",
    Role.SUPERVISOR: "supervisor1",
    Role.DEPARTMENT_HANDLER: "handler_zjj",
    Role.DEPARTMENT_ADMIN: "admin_zjj",
    Role.ADMIN: "admin",
    Role.AUDITOR: "auditor1",  # the audit log only (issue 17)
    Role.INTEGRATION: "sharing1",  # the data-sharing feed only (issue 21)
}
# Blueprints (and single endpoints) that citizens, machines or anonymous users call: the only @public ones.
PUBLIC_BLUEPRINTS = ("portal.", "open311.", "wechat.", "health.", "rating_page.", "auth.", "apidoc.")
PUBLIC_BLUEPRINTS += ("totp.", "sso.")  # the login's second step and single sign-on (issue 17, accounts)
PUBLIC_BLUEPRINTS += ("portal_public.", "public_media.")  # 曝光台, public figures, guides; thumbnails (19, 18)
PUBLIC_API = {"api.create_rating", "api.sms_inbound", "api.cti_event", "linkage_api.linkage_inbound"}


def declarations(app) -> tuple[dict[str, str], set[str], list[str]]:
    declared, public, missing = {}, set(), []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "_capability", None):
            declared[rule.endpoint] = view._capability
        elif getattr(view, "_public", False) or rule.endpoint in PUBLIC_ENDPOINTS:
            public.add(rule.endpoint)
        else:
            missing.append(f"{rule.endpoint} ({rule.rule})")
    return declared, public, missing


def test_every_view_declares_a_capability_or_public(app):
    declared, public, missing = declarations(app)
    counts.report(f"capabilities: {len(declared)} endpoints declared, {len(public)} public")
    assert not missing, "views without @requires(...) or @public: " + ", ".join(sorted(missing))
    assert set(declared.values()) <= ALL_CAPABILITIES
    unexpected = {e for e in public if not e.startswith(PUBLIC_BLUEPRINTS) and e not in PUBLIC_API | PUBLIC_ENDPOINTS}
    assert not unexpected, f"public endpoints outside the citizen/machine blueprints: {sorted(unexpected)}"


def test_admin_holds_every_capability_and_every_role_has_a_row():
    assert CAPABILITIES[Role.ADMIN] == ALL_CAPABILITIES
    assert set(CAPABILITIES) == set(Role)


# (method, path under /api/v1, body, capability). Objects that do not exist: with the capability the answer is
# 404/400/200, never 403; without it 403 — and nothing is changed either way.
PAIRS = [
    ("post", f"/cases/{MISSING_CASE}/dispatch", {"department_code": "ZJJ"}, "case.dispatch"),
    ("post", f"/cases/{MISSING_CASE}/sign", {}, "case.sign"),
    ("post", f"/cases/{MISSING_CASE}/close", {}, "case.close"),
    ("post", f"/cases/{MISSING_CASE}/answer", {"answer": "请到政务服务中心办理"}, "case.answer"),
    ("post", f"/cases/{MISSING_CASE}/extension/decision", {"approve": True}, "case.extension_decide"),
    ("post", f"/cases/{MISSING_CASE}/supervise", {"level": "remind", "note": "请尽快办理"}, "case.supervise"),
    ("get", f"/cases/{MISSING_CASE}/routing", None, "case.routing"),
    ("get", f"/cases/{MISSING_CASE}", None, "case.view"),
    ("get", "/routing/queue", None, "dispatch.queue"),
    ("get", "/routing/returns", None, "dispatch.returns"),
    ("get", f"/rectifications/{MISSING_ID}", None, "rating.view"),
    ("post", f"/rectifications/{MISSING_ID}/verify", {}, "rating.review"),
    ("post", f"/citizens/{MISSING_ID}/unmask", {}, "citizen.unmask"),
    ("get", "/sla/policy", None, "sla.view"),
    ("post", "/sla/holidays", {}, "sla.admin"),
    ("get", "/kb/feedback", None, "kb.feedback_view"),
    ("get", "/outbox", None, "outbox.view"),
]


def _call(api, username: str, method: str, path: str, body):
    client = api(username)
    return client.get(path) if method == "get" else client.post(path, json=body)


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize(("method", "path", "body", "capability"), PAIRS, ids=[p[3] + ":" + p[1] for p in PAIRS])
def test_403_exactly_when_the_role_lacks_the_capability(api, role, method, path, body, capability):
    resp = _call(api, USERS[role], method, path, body)
    if capability in CAPABILITIES[role]:
        assert resp.status_code != 403, (role, capability, resp.get_json())
        assert resp.status_code < 500
    else:
        assert resp.status_code == 403, (role, capability, resp.status_code)
        assert resp.get_json()["error"]["code"] == "forbidden"


def test_the_table_is_the_source(api, monkeypatch):
    """Change the table, and the answers change with it: nothing else holds a role list."""
    dispatch = ("post", f"/cases/{MISSING_CASE}/dispatch", {"department_code": "ZJJ"})
    supervise = ("post", f"/cases/{MISSING_CASE}/supervise", {"level": "remind", "note": "请尽快办理"})
    assert _call(api, "dispatcher1", *dispatch).status_code == 404
    assert _call(api, "agent1", *supervise).status_code == 403
    monkeypatch.setitem(CAPABILITIES, Role.DISPATCHER, CAPABILITIES[Role.DISPATCHER] - {"case.dispatch"})
    monkeypatch.setitem(CAPABILITIES, Role.AGENT, CAPABILITIES[Role.AGENT] | {"case.supervise"})
    assert _call(api, "dispatcher1", *dispatch).status_code == 403
    assert _call(api, "agent1", *supervise).status_code == 404


def _session(app, username: str):
    from hotline.extensions import db
    from hotline.models import User

    with app.app_context():
        user_id, generation = db.session.execute(
            sa.select(User.id, User.session_generation).where(User.username == username)
        ).one()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_gen"] = generation  # hotline/auth/sessions.py: a logout elsewhere must not void this session
        session["_fresh"] = True
    return client


def test_pages_send_anonymous_users_to_login_and_refuse_other_roles(app):
    anonymous = app.test_client()
    resp = anonymous.get("/monitor")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert anonymous.get("/portal/").status_code == 200  # @public
    assert _session(app, "agent1").get("/monitor").status_code == 403
    assert _session(app, "monitor1").get("/monitor").status_code == 200
    assert _session(app, "handler_zjj").get("/console").status_code == 403


def test_api_needs_a_token_or_session_except_public_endpoints(app):
    anonymous = app.test_client()
    resp = anonymous.get("/api/v1/routing/queue")
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unauthorized"
    # public: the CTI webhook authenticates by signature, so an unsigned call is its own 401, not the login one
    resp = anonymous.post("/api/v1/cti/events", data=b"{}", content_type="application/json")
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "bad_signature"

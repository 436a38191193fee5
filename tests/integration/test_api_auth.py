"""Authentication and authorization on every /api/v1 endpoint: 401 / 403 as JSON, nothing changed."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.helpers import new_case
from tests.integration.bad_input_support import assert_api_error, case_in_state, row_counts, snapshot

# (method, path after /api/v1 with {n} for a case number, body, state the case must be in)
ENDPOINTS = [
    (
        "post",
        "/cases",
        {"channel": "phone", "kind": "consult", "content": "请问社保卡怎么补办？", "citizen_phone": "13912345678"},
        "registered",
    ),
    ("get", "/cases/{n}", None, "dispatched"),
    ("get", "/cases?status=registered&page=1", None, "registered"),
    ("get", "/users?role=agent", None, "registered"),
    ("post", "/cases/{n}/answer", {"answer": "请到区政务服务中心办理。"}, "registered"),
    ("post", "/cases/{n}/dispatch", {"department_code": "ZJJ"}, "registered"),
    ("post", "/cases/{n}/sign", {}, "dispatched"),
    ("post", "/cases/{n}/contact", {"note": "已电话联系"}, "handling"),
    ("post", "/cases/{n}/reply", {"content": "已处理完毕。", "result": "resolved"}, "handling"),
    ("post", "/cases/{n}/return", {"reason": "不属于本单位职责"}, "dispatched"),
    ("post", "/cases/{n}/return/decision", {"accept": False, "note": "驳回"}, "returned"),
    ("post", "/cases/{n}/close", {"note": "回访满意"}, "replied"),
    ("post", "/cases/{n}/merge", {"into": "GD20000101-000001"}, "registered"),
]
IDS = [f"{m}-{p.split('?')[0].replace('/{n}', '')}" for m, p, _, _ in ENDPOINTS]


def call(app, method, path, number, body, headers):
    client = app.test_client()
    url = "/api/v1" + path.format(n=number)
    return client.get(url, headers=headers) if method == "get" else client.post(url, json=body, headers=headers)


BAD_AUTH = {
    "none": lambda tokens: {},
    "wrong-token": lambda tokens: {"Authorization": "Bearer hl_this-token-does-not-exist"},
    "empty-bearer": lambda tokens: {"Authorization": "Bearer "},
    "basic": lambda tokens: {"Authorization": "Basic YWdlbnQxOmhvdGxpbmUxMjM0NQ=="},
    "token-without-scheme": lambda tokens: {"Authorization": tokens["agent1"]},
    "token-with-junk": lambda tokens: {"Authorization": f"Bearer {tokens['agent1']}x"},
    "sql-in-token": lambda tokens: {"Authorization": "Bearer ' OR '1'='1"},
    "huge-token": lambda tokens: {"Authorization": "Bearer " + "a" * 100_000},
    "non-ascii-token": lambda tokens: {"Authorization": "Bearer 令牌".encode().decode("latin-1")},
}


@pytest.mark.parametrize("auth", list(BAD_AUTH))
@pytest.mark.parametrize(("method", "path", "body", "state"), ENDPOINTS, ids=IDS)
def test_missing_or_bad_credentials_are_401(app, api, tokens, phone, method, path, body, state, auth, make_case):
    number = case_in_state(make_case, phone, state)
    before, counts = snapshot(api, number), row_counts(app)
    resp = call(app, method, path, number, body, BAD_AUTH[auth](tokens))
    error = assert_api_error(resp, 401, "unauthorized")
    assert "登录" in error["message"] or "令牌" in error["message"]
    assert snapshot(api, number) == before
    assert row_counts(app) == counts


def _token_for_new_user(app, role: str = "agent", department: str | None = None) -> tuple[str, int]:
    from hotline.auth.tokens import create_token
    from hotline.extensions import db
    from hotline.models import Department, User

    with app.app_context():
        dept = db.session.scalar(sa.select(Department).where(Department.code == department)) if department else None
        user = User(
            username=f"auth_{uuid.uuid4().hex[:8]}", name="测试用户", role=role, department=dept, password_hash="!"
        )
        db.session.add(user)
        token = create_token(user)
        db.session.commit()
        return token, user.id


def test_revoked_token_is_401(app, api, phone):
    from datetime import UTC, datetime

    from hotline.extensions import db
    from hotline.models import ApiToken

    token, user_id = _token_for_new_user(app)
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/cases", headers=headers).status_code == 200
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user_id))
        row.revoked_at = datetime.now(UTC)
        db.session.commit()
    assert_api_error(app.test_client().get("/api/v1/cases", headers=headers), 401, "unauthorized")
    counts = row_counts(app)
    body = {"channel": "phone", "kind": "consult", "content": "请问社保卡怎么补办？", "citizen_phone": phone}
    assert_api_error(app.test_client().post("/api/v1/cases", json=body, headers=headers), 401, "unauthorized")
    assert row_counts(app) == counts


def test_token_of_deactivated_user_is_401(app):
    from hotline.extensions import db
    from hotline.models import User

    token, user_id = _token_for_new_user(app)
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    resp = app.test_client().get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert_api_error(resp, 401, "unauthorized")


# endpoint -> users whose role may not call it (a valid token of the wrong role: 403)
WRONG_ROLES = [
    ("post", "/cases", ["handler_zjj", "admin_zjj", "supervisor1"]),
    ("post", "/cases/{n}/answer", ["dispatcher1", "monitor1", "handler_zjj"]),
    ("post", "/cases/{n}/dispatch", ["agent1", "monitor1", "supervisor1", "handler_zjj", "admin_zjj"]),
    ("post", "/cases/{n}/sign", ["agent1", "dispatcher1", "monitor1"]),
    ("post", "/cases/{n}/contact", ["agent1", "dispatcher1"]),
    ("post", "/cases/{n}/reply", ["agent1", "dispatcher1", "supervisor1"]),
    ("post", "/cases/{n}/return", ["agent1", "dispatcher1"]),
    ("post", "/cases/{n}/return/decision", ["agent1", "monitor1", "handler_zjj", "admin_zjj"]),
    ("post", "/cases/{n}/close", ["monitor1", "supervisor1", "handler_zjj"]),
    ("post", "/cases/{n}/merge", ["agent1", "monitor1", "handler_zjj"]),
]
STATE_FOR = {path: state for _, path, _, state in ENDPOINTS}
BODY_FOR = {path: body for _, path, body, _ in ENDPOINTS}


@pytest.mark.parametrize(
    ("method", "path", "user"),
    [(m, p, u) for m, p, users in WRONG_ROLES for u in users],
    ids=[f"{p.replace('/{n}', '')}-{u}" for _, p, users in WRONG_ROLES for u in users],
)
def test_valid_token_of_wrong_role_is_403(app, api, tokens, phone, method, path, user, make_case):
    number = case_in_state(make_case, phone, STATE_FOR[path])
    body = dict(BODY_FOR[path])
    if "into" in body:
        body["into"] = new_case(api("agent1"), phone)["number"]
    before, counts = snapshot(api, number), row_counts(app)
    resp = call(app, method, path, number, body, {"Authorization": f"Bearer {tokens[user]}"})
    error = assert_api_error(resp, 403, "forbidden")
    assert "权" in error["message"]
    assert snapshot(api, number) == before
    assert row_counts(app) == counts


@pytest.mark.parametrize(
    ("method", "path", "body", "state"),
    [e for e in ENDPOINTS if "{n}" in e[1]],
    ids=[i for i, e in zip(IDS, ENDPOINTS, strict=True) if "{n}" in e[1]],
)
def test_other_department_can_neither_see_nor_act(app, api, tokens, phone, method, path, body, state, make_case):
    """住建局's case is invisible to 人社局 (RSJ), whatever the endpoint: the answer of a number that does not exist
    (404; 403 only where the role lacks the capability, whatever the number), and not in its lists."""
    number = case_in_state(make_case, phone, state)
    body = dict(body or {})
    if "into" in body:
        body["into"] = new_case(api("agent1"), phone)["number"]
    before = snapshot(api, number)
    for user in ("handler_rsj", "admin_rsj"):
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        resp, gone = (call(app, method, path, n, body, headers) for n in (number, "GD20000101-000009"))
        assert resp.status_code in (403, 404)
        mine, missing = assert_api_error(resp, gone.status_code), assert_api_error(gone, gone.status_code)
        assert (mine["code"], mine["fields"]) == (missing["code"], missing["fields"])
        listed = api(user).get("/cases").get_json()["items"]
        assert number not in [c["number"] for c in listed]
    assert snapshot(api, number) == before


def test_centre_user_without_department_cannot_sign(app, api, tokens, phone, make_case):
    """admin passes every role check but has no unit: signing is refused with 403, nothing changes."""
    number = case_in_state(make_case, phone, "dispatched")
    before = snapshot(api, number)
    resp = call(app, "post", "/cases/{n}/sign", number, {}, {"Authorization": f"Bearer {tokens['admin']}"})
    error = assert_api_error(resp, 403, "forbidden")
    assert "承办单位" in error["message"]
    assert snapshot(api, number) == before


@pytest.mark.parametrize(
    "user", ["agent1", "dispatcher1", "monitor1", "supervisor1", "handler_zjj", "admin_zjj", "admin"]
)
def test_every_staff_role_may_read(api, user):
    assert api(user).get("/cases").status_code == 200
    assert api(user).get("/users?role=department_handler").status_code == 200


# --- browser session ------------------------------------------------------------------------------


def _session_client(app, username: str, csrf_raw: str | None = None):
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
        if csrf_raw:
            session["csrf_token"] = csrf_raw
    return client


def _signed_csrf(app, raw: str) -> str:
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)


def test_browser_session_reads_and_needs_csrf_to_write(app, api, phone, make_case):
    number = case_in_state(make_case, phone, "registered")
    raw = uuid.uuid4().hex
    client = _session_client(app, "dispatcher1", csrf_raw=raw)
    assert client.get(f"/api/v1/cases/{number}").status_code == 200
    before = snapshot(api, number)
    url = f"/api/v1/cases/{number}/dispatch"
    # a logged-in browser without the CSRF token: refused, nothing changes
    error = assert_api_error(client.post(url, json={"department_code": "ZJJ"}), 400, "csrf_failed")
    assert "刷新" in error["message"]
    bad = client.post(url, json={"department_code": "ZJJ"}, headers={"X-CSRFToken": "forged"})
    assert_api_error(bad, 400, "csrf_failed")
    assert snapshot(api, number) == before
    # with the token it goes through
    resp = client.post(url, json={"department_code": "ZJJ"}, headers={"X-CSRFToken": _signed_csrf(app, raw)})
    assert resp.status_code == 200, resp.get_json()


def test_session_of_wrong_role_is_403(app, api, phone, make_case):
    number = case_in_state(make_case, phone, "registered")
    raw = uuid.uuid4().hex
    client = _session_client(app, "handler_zjj", csrf_raw=raw)
    before = snapshot(api, number)
    resp = client.post(
        f"/api/v1/cases/{number}/dispatch",
        json={"department_code": "ZJJ"},
        headers={"X-CSRFToken": _signed_csrf(app, raw)},
    )
    assert_api_error(resp, 403, "forbidden")
    assert snapshot(api, number) == before

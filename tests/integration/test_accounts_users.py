"""People (issue 17): /api/v1/users CRUD for admins, disable/enable, one-time password resets, role changes in the
audit log, the bulk import (CSV/XLSX, row errors in Chinese, all-or-nothing, --partial, first login changes the
password), and API tokens listed and revoked (page, API, `flask token revoke`)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from tests.unit.accounts_support import csrf_of, post_login

GOOD = "Quiet-Harbour-5531"


def bearer(app, token: str):
    class Client:
        def __init__(self):
            self.client = app.test_client()

        def __getattr__(self, method):
            def call(path, **kw):
                headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
                return getattr(self.client, method)("/api/v1" + path, headers=headers, **kw)

            return call

    return Client()


def audit_rows(app, action: str, target: str) -> list[dict]:
    from hotline.extensions import db
    from hotline.models import AuditEvent

    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action, AuditEvent.target_id == target)
        ).all()
        return [{"actor": r.actor_name, "before": r.before, "after": r.after} for r in rows]


def name() -> str:
    return "u" + uuid.uuid4().hex[:8]


def test_admin_creates_edits_disables_and_resets_users_through_the_api(app, api):
    admin = api("admin")
    username = name()
    body = {"username": username, "name": "张三", "role": "agent", "phone": "0571-8888 1234", "email": "z@example.cn"}
    resp = admin.post("/users", json=body)
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    otp = created["one_time_password"]
    assert created["user"]["must_change_password"] and created["user"]["department_code"] is None
    assert audit_rows(app, "user.create", username)[0]["actor"] == "admin"

    # bad input: Chinese reasons per field, never a 500
    again = admin.post("/users", json=body).get_json()["error"]
    assert again["code"] == "invalid_input" and "已存在" in again["fields"]["username"]
    bad = admin.post("/users", json={"username": name(), "name": "李四", "role": "king"}).get_json()["error"]
    assert "未知的角色" in bad["fields"]["role"]
    no_unit = admin.post("/users", json={"username": name(), "name": "李四", "role": "department_handler"})
    assert no_unit.status_code == 400 and "必须属于一个单位" in no_unit.get_json()["error"]["fields"]["unit"]
    ghost = admin.post("/users", json={"username": name(), "name": "李四", "role": "agent", "unit_code": "NOPE"})
    assert "NOPE" in ghost.get_json()["error"]["fields"]["unit"]
    assert (
        admin.post("/users", json={"username": name(), "name": "李四", "role": "agent", "email": "x"}).status_code
        == 400
    )
    # only admins
    assert api("agent1").post("/users", json={**body, "username": name()}).status_code == 403
    assert api("supervisor1").get(f"/users/{username}").status_code == 403

    # the one-time password: the first login lands on the password page; the API is closed until it is changed
    browser = app.test_client()
    assert post_login(browser, username, otp).headers["Location"] == "/account/password"
    assert browser.get("/api/v1/cases").get_json()["error"]["code"] == "password_change_required"
    token = csrf_of(browser, "/account/password")
    changed = browser.post(
        "/account/password", data={"csrf_token": token, "current": otp, "new": GOOD, "confirm": GOOD}
    )
    assert changed.status_code == 302
    assert browser.get("/console").status_code == 200

    # a role change is audited with before/after and ends the user's sessions
    resp = admin.client.patch(
        f"/api/v1/users/{username}",
        json={"role": "department_handler", "unit_code": "ZJJ"},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert resp.status_code == 200 and resp.get_json()["user"]["department_code"] == "ZJJ"
    assert audit_rows(app, "user.role", username) == [
        {"actor": "admin", "before": {"role": "agent"}, "after": {"role": "department_handler"}}
    ]
    assert browser.get("/console").status_code == 302  # logged out: the old session carried the old rights

    # disabled: no login; enabled again: the login works
    patch = lambda body: admin.client.patch(  # noqa: E731
        f"/api/v1/users/{username}", json=body, headers={"Authorization": f"Bearer {admin.token}"}
    )
    assert patch({"active": False}).get_json()["user"]["active"] is False
    assert post_login(app.test_client(), username, GOOD).status_code == 200
    assert [r["after"] for r in audit_rows(app, "user.disable", username)] == [{"active": False}]
    assert patch({"active": True}).status_code == 200
    assert post_login(app.test_client(), username, GOOD).status_code == 302

    # a reset: a new one-time password, the old password refused, first login changes it again
    reset = admin.post(f"/users/{username}/password-reset").get_json()
    assert reset["must_change_password"] and reset["one_time_password"] != otp
    assert post_login(app.test_client(), username, GOOD).status_code == 200
    assert (
        post_login(app.test_client(), username, reset["one_time_password"]).headers["Location"] == "/account/password"
    )
    assert len(audit_rows(app, "user.password_reset", username)) == 1
    assert admin.get("/users/nobody-here").status_code == 404


def write_csv(path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_users_import_is_all_or_nothing_with_chinese_row_errors_then_partial(app, tmp_path):
    from hotline.extensions import db
    from hotline.models import User

    a, b, c = name(), name(), name()
    path = write_csv(
        tmp_path / "users.csv",
        [
            "username,name,role,unit_code,phone,email",
            f"{a},王五,话务员,,13800000001,",
            f"{b},赵六,department_handler,ZJJ,,b@example.cn",
            f"{c},钱七,king,,,",  # line 4: unknown role
            f"{a},重复,agent,,,",  # line 5: duplicate
            "x,短,agent,,,",  # line 6: bad username
            f"{name()},孙八,department_handler,NOPE,,",  # line 7: unknown unit
        ],
    )
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["users", "import", path])
    assert refused.exit_code != 0
    for needle in ("第 4 行", "未知的角色", "第 5 行", "重复", "第 6 行", "第 7 行", "NOPE", "未导入任何账号"):
        assert needle in refused.output, needle
    with app.app_context():
        assert not db.session.scalar(sa.select(User.id).where(User.username.in_([a, b])))

    partial = runner.invoke(args=["users", "import", path, "--partial"])
    assert partial.exit_code == 0, partial.output
    lines = [line for line in partial.output.splitlines() if "\t" in line]
    passwords = dict(line.split("\t") for line in lines)
    assert set(passwords) == {a, b}
    with app.app_context():
        rows = {u.username: u for u in db.session.scalars(sa.select(User).where(User.username.in_([a, b])))}
        assert rows[a].role == "agent" and rows[a].phone == "13800000001" and rows[a].must_change_password
        assert rows[b].department.code == "ZJJ" and rows[b].email == "b@example.cn"
    # an imported user must change the password at first login
    client = app.test_client()
    assert post_login(client, b, passwords[b]).headers["Location"] == "/account/password"
    assert client.get("/dept/").headers["Location"] == "/account/password"

    # again, as XLSX, with a changed role: updated (audited), no new password, the rest unchanged
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["username", "name", "role", "unit_code", "phone", "email"])
    sheet.append([a, "王五", "dispatcher", None, 13800000001, None])
    sheet.append([b, "赵六", "department_handler", "ZJJ", None, "b@example.cn"])
    book.save(tmp_path / "users.xlsx")
    again = runner.invoke(args=["users", "import", str(tmp_path / "users.xlsx")])
    assert again.exit_code == 0, again.output
    assert "新增 0，更新 1，未变 1" in again.output and "\t" not in again.output
    assert audit_rows(app, "user.role", a)[0]["after"] == {"role": "dispatcher"}


def test_tokens_are_listed_and_revoked_on_the_page_the_api_and_the_cli(app, api, make_user):
    from hotline.extensions import db
    from hotline.models import ApiToken

    user = make_user(role="agent")
    own = api(user.username)
    first = own.post("/account/tokens", json={"label": "工单同步"})
    assert first.status_code == 201
    value, token_id = first.get_json()["value"], first.get_json()["token"]["id"]
    assert bearer(app, value).get("/cases").status_code == 200
    listed = own.get("/account/tokens").get_json()["tokens"]
    assert any(t["id"] == token_id and t["label"] == "工单同步" and value.startswith(t["hint"]) for t in listed)
    assert audit_rows(app, "token.create", str(token_id))[0]["after"]["label"] == "工单同步"
    # another user's token is not mine to revoke (404, not 403)
    assert (
        api("agent1")
        .client.delete(f"/api/v1/account/tokens/{token_id}", headers={"Authorization": f"Bearer {api('agent1').token}"})
        .status_code
        == 404
    )
    # revoked by the owner through the API: it stops working at once
    resp = own.client.delete(f"/api/v1/account/tokens/{token_id}", headers={"Authorization": f"Bearer {own.token}"})
    assert resp.status_code == 200 and resp.get_json()["token"]["revoked_at"]
    assert bearer(app, value).get("/cases").status_code == 401
    assert len(audit_rows(app, "token.revoke", str(token_id))) == 1

    # `flask token revoke USERNAME`: every valid token of the user
    second = own.post("/account/tokens", json={"label": "报表"}).get_json()["value"]
    result = app.test_cli_runner().invoke(args=["token", "revoke", user.username])
    assert result.exit_code == 0 and "已吊销 2 个令牌" in result.output, result.output  # the fixture's + "报表"
    assert bearer(app, second).get("/cases").status_code == 401
    assert own.get("/cases").status_code == 401
    with app.app_context():
        live = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        )
        assert live == 0


def test_the_tokens_page_creates_lists_and_revokes(app):
    from tests.unit.accounts_support import new_staff

    username = new_staff(app)
    client = app.test_client()
    post_login(client, username)
    token = csrf_of(client, "/account/tokens")
    page = client.post("/account/tokens", data={"csrf_token": token, "label": "测试脚本"}).get_data(as_text=True)
    assert 'id="new-token"' in page and "测试脚本" in page
    value = page.split('id="new-token">', 1)[1].split("<", 1)[0]
    assert bearer(app, value).get("/cases").status_code == 200
    token_id = page.split('data-token="', 1)[1].split('"', 1)[0]
    resp = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": token})
    assert resp.status_code == 302
    assert "已吊销" in client.get("/account/tokens").get_data(as_text=True)
    assert bearer(app, value).get("/cases").status_code == 401


def test_admin_pages_list_create_and_reset(app):
    from hotline.extensions import db
    from hotline.models import User

    client = app.test_client()
    assert post_login(client, "admin", "hotline12345").status_code == 302
    assert "人员与账号" in client.get("/admin/users?q=agent").get_data(as_text=True)
    token = csrf_of(client, "/admin/users/new")
    username = name()
    page = client.post(
        "/admin/users/new",
        data={"csrf_token": token, "username": username, "name": "页面新增", "role": "monitor", "unit": ""},
    ).get_data(as_text=True)
    assert 'id="one-time-password"' in page
    bad = client.post(
        "/admin/users/new", data={"csrf_token": token, "username": name(), "name": "x", "role": "agent", "unit": "NOPE"}
    )
    assert bad.status_code == 400 and "NOPE" in bad.get_data(as_text=True)
    reset = client.post(f"/admin/users/{username}/reset", data={"csrf_token": token}).get_data(as_text=True)
    assert 'id="one-time-password"' in reset
    client.post(f"/admin/users/{username}/disable", data={"csrf_token": token})
    with app.app_context():
        assert db.session.scalar(sa.select(User.active).where(User.username == username)) is False
    # an agent may not open the users pages
    agent = app.test_client()
    post_login(agent, "agent1", "hotline12345")
    assert agent.get("/admin/users").status_code == 403

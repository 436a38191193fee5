"""A real city (issue 17): `flask setup --city` on an empty database, the one-time password changed first, the
password policy, and production mode refusing to start while an account has the demo password."""

from __future__ import annotations

import re
import secrets

import pytest
import sqlalchemy as sa

from tests.faults.support import own_singletons
from tests.unit.accounts_support import csrf_of, fresh_app, post_login

GOOD = "Lantern-River-9072"


@pytest.fixture()
def city(app, tmp_path):
    with own_singletons():
        other = fresh_app(app, tmp_path)
        yield other


def one_time_password(output: str, username: str = "admin") -> str:
    """The contract (/work/shared/docs/API.md): the last line of stdout is USERNAME<TAB>ONE-TIME-PASSWORD."""
    last = output.strip().splitlines()[-1]
    assert re.fullmatch(username + r"\t([a-z2-9]{4}-){3}[a-z2-9]{4}", last), output
    return last.split("\t")[1]


def change(client, current: str, new: str, confirm: str | None = None):
    token = csrf_of(client, "/account/password")
    return client.post(
        "/account/password",
        data={"csrf_token": token, "current": current, "new": new, "confirm": confirm or new},
    )


def test_setup_creates_an_empty_city_with_one_admin_who_must_change_the_password_first(city):
    from hotline.extensions import db
    from hotline.models import Department, SlaPolicy, User

    result = city.test_cli_runner().invoke(args=["setup", "--city", "江城市", "--code", "JC"])
    assert result.exit_code == 0, result.output
    otp = one_time_password(result.output)
    assert result.output.count(otp) == 1  # printed once
    with city.app_context():
        units = db.session.scalars(sa.select(Department)).all()
        assert [(u.code, u.name, u.kind, u.path) for u in units] == [("JC", "江城市", "city", "/JC/")]
        users = db.session.scalars(sa.select(User)).all()
        assert [(u.username, u.role, u.must_change_password, u.demo_password) for u in users] == [
            ("admin", "admin", True, False)
        ]
        assert otp not in users[0].password_hash and users[0].password_expires_at is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SlaPolicy)) == 1

    again = city.test_cli_runner().invoke(args=["setup", "--city", "另一市"])
    assert again.exit_code != 0 and "数据库不是空的" in again.output

    client = city.test_client()
    assert post_login(client, "admin", "wrong-password-1").status_code == 200  # refused
    resp = post_login(client, "admin", otp)
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/password"
    # before the change: every page leads back to the password page, the API answers 403 with a clear code
    for path in ("/console", "/admin/org/units", "/cases"):
        resp = client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"] == "/account/password", path
    api = client.get("/api/v1/units")
    assert api.status_code == 403 and api.get_json()["error"]["code"] == "password_change_required"
    assert "一次性密码" in client.get("/account/password").get_data(as_text=True)

    # the policy: length, common passwords, the username, the demo password — each refused with its reason
    for weak, reason in (
        ("short1", "至少需要 10 个字符"),
        ("password123", "过于常见"),
        ("1qaz2wsx3edc", "过于常见"),
        ("hotline12345", "过于常见"),
        ("my-admin-password", "包含用户名"),
    ):
        page = change(client, otp, weak).get_data(as_text=True)
        assert reason in page, (weak, reason)
    assert client.get("/console").status_code == 302  # still the one-time password

    resp = change(client, otp, GOOD)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    # next, the admin's role requires a second factor (HOTLINE_TOTP_ROLES): enrolment before anything else
    assert client.get("/admin/org/units").headers["Location"] == "/account/totp"
    with city.app_context():
        admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
        assert not admin.must_change_password and admin.password_hash.startswith("$argon2id$")
    # the one-time password no longer opens anything; the new one does
    fresh = city.test_client()
    assert post_login(fresh, "admin", otp).status_code == 200
    assert post_login(fresh, "admin", GOOD).status_code == 302


def test_an_expired_one_time_password_is_refused(city):
    from datetime import UTC, datetime, timedelta

    from hotline.extensions import db
    from hotline.models import User

    result = city.test_cli_runner().invoke(args=["setup", "--city", "江城市"])
    otp = one_time_password(result.output)
    with city.app_context():
        db.session.execute(sa.update(User).values(password_expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        db.session.commit()
    page = post_login(city.test_client(), "admin", otp)
    assert page.status_code == 200 and "一次性密码已过期" in page.get_data(as_text=True)


def test_production_refuses_to_start_while_an_account_has_the_demo_password(app, tmp_path):
    from hotline.extensions import db
    from hotline.models import User
    from hotline.seed.loader import seed_departments, seed_users
    from hotline.users.setup import DemoPasswords

    keys = {n: secrets.token_urlsafe(32) for n in ("secret_key", "data_key", "index_key", "cti_secret", "sms_secret")}
    with own_singletons():
        demo = fresh_app(app, tmp_path, **keys)
        with demo.app_context():
            seed_users(seed_departments())
            db.session.commit()
            demo_users = db.session.scalars(sa.select(User.username)).all()
        with pytest.raises(DemoPasswords) as refused:
            fresh_app(app, tmp_path, deployment="production", **keys)
        message = str(refused.value)
        assert f"{len(demo_users)} 个账号仍在使用示范数据" in message and "HOTLINE_ENV=production" in message
        # the demo accounts get passwords of their own (a reset), one is left: still refused
        runner = demo.test_cli_runner()
        for username in demo_users[1:]:
            assert runner.invoke(args=["users", "reset-password", username]).exit_code == 0
        with pytest.raises(DemoPasswords, match="1 个账号"):
            fresh_app(app, tmp_path, deployment="production", **keys)
        assert runner.invoke(args=["users", "reset-password", demo_users[0]]).exit_code == 0
        started = fresh_app(app, tmp_path, deployment="production", **keys)
        assert started.config["HOTLINE"].production


def test_seed_demo_is_refused_in_production(app, tmp_path):
    keys = {n: secrets.token_urlsafe(32) for n in ("secret_key", "data_key", "index_key", "cti_secret", "sms_secret")}
    with own_singletons():
        prod = fresh_app(app, tmp_path, deployment="production", **keys)
        result = prod.test_cli_runner().invoke(args=["seed", "--demo"])
        assert result.exit_code != 0 and "生产模式" in result.output

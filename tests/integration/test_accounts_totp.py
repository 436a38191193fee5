"""Two-factor login (issue 17): TOTP enrolment with a server-made QR code, required for admins and supervisors,
the code step at login (one use per code, counted by the lockout), recovery codes used once, an admin's reset."""

from __future__ import annotations

import re
import time

import pyotp
import sqlalchemy as sa

from tests.unit.accounts_support import PASSWORD, csrf_of, login_events, new_staff, post_login, unlock


def enrol(client) -> tuple[str, list[str]]:
    page = client.get("/account/totp").get_data(as_text=True)
    assert 'id="totp-qr" src="data:image/svg+xml' in page
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    token = csrf_of(client, "/account/totp")
    wrong = client.post("/account/totp", data={"csrf_token": token, "code": "000000"}).get_data(as_text=True)
    assert "验证码不正确" in wrong
    done = client.post("/account/totp", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def code_step(client, code: str):
    token = csrf_of(client, "/login/totp")
    return client.post("/login/totp", data={"csrf_token": token, "code": code})


def wait_for_next_step() -> None:
    time.sleep(30 - time.time() % 30 + 0.2)


def test_admins_enrol_then_log_in_with_a_code_once_and_recovery_codes_once(app, api, make_user):
    from hotline.extensions import db
    from hotline.models import User

    username = new_staff(app, role="admin")
    client = app.test_client()
    assert post_login(client, username).status_code == 302
    # required for the role: every page leads to enrolment, the API (with this session) says why
    assert client.get("/admin/users").headers["Location"] == "/account/totp"
    assert client.get("/api/v1/cases").get_json()["error"]["code"] == "totp_enrolment_required"
    secret, codes = enrol(client)
    assert client.get("/admin/users").status_code == 200
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert user.totp_enabled_at is not None and secret not in (user.totp_secret or "")  # stored encrypted

    # a new login: the password alone opens nothing
    second = app.test_client()
    resp = post_login(second, username)
    assert resp.headers["Location"] == "/login/totp"
    assert second.get("/admin/users").status_code == 302
    wait_for_next_step()  # the enrolment used this step's code
    now = pyotp.TOTP(secret).now()
    assert "验证码不正确" in code_step(second, "123456" if now != "123456" else "654321").get_data(as_text=True)
    ok = code_step(second, now)
    assert ok.status_code == 302 and "/login" not in ok.headers["Location"]
    assert second.get("/admin/users").status_code == 200
    # the same code again (another browser, within its 30 s): refused — no replay
    third = app.test_client()
    post_login(third, username)
    assert "验证码不正确" in code_step(third, now).get_data(as_text=True)
    # a recovery code works once
    assert code_step(third, codes[0]).status_code == 302
    fourth = app.test_client()
    post_login(fourth, username)
    assert "验证码不正确" in code_step(fourth, codes[0]).get_data(as_text=True)
    assert code_step(fourth, codes[1].upper()).status_code == 302
    reasons = [e["reason"] for e in login_events(app, username) if e["result"] == "failure"]
    assert reasons.count("bad_totp") == 3


def test_wrong_codes_lock_the_account_like_wrong_passwords(app):
    from hotline.auth import totp
    from hotline.extensions import db
    from hotline.models import User
    from hotline.models.types import utcnow

    username = new_staff(app, role="supervisor")
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        secret = totp.start_enrolment(user)
        user.totp_enabled_at = utcnow()
        db.session.commit()
    after = app.config["HOTLINE"].login_lockout_after
    client = app.test_client()
    for _ in range(after - 1):
        post_login(client, username)
        assert code_step(client, "000001").status_code == 200
    post_login(client, username)
    locked = code_step(client, "000001")
    assert locked.status_code == 429 and "Retry-After" in locked.headers
    # locked: even the right password and code are refused until the lock ends
    post_login(client, username)
    assert post_login(client, username).status_code == 429
    unlock(app, username)
    assert post_login(client, username).headers["Location"] == "/login/totp"
    assert code_step(client, pyotp.TOTP(secret).now()).status_code == 302


def test_an_admin_resets_the_second_factor_and_tokens_skip_enrolment(app, api):
    from hotline.auth import totp
    from hotline.extensions import db
    from hotline.models import RecoveryCode, User
    from hotline.models.types import utcnow

    username = new_staff(app, role="supervisor")
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        totp.start_enrolment(user)
        user.totp_enabled_at = utcnow()
        totp.new_recovery_codes(user)
        db.session.commit()
    resp = api("admin").post(f"/users/{username}/totp-reset")
    assert resp.status_code == 200 and resp.get_json()["user"]["totp_enabled"] is False
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert user.totp_secret is None
        assert not db.session.scalar(
            sa.select(sa.func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id)
        )
    client = app.test_client()
    assert post_login(client, username, PASSWORD).headers["Location"] != "/login/totp"
    assert client.get("/console").headers["Location"] == "/account/totp"  # enrol again: the role requires it


def test_roles_are_configurable(app):
    from hotline.auth.forced import pending_step
    from hotline.config import Settings

    class U:
        must_change_password = False
        demo_password = False
        totp_enabled_at = None

    agent, admin = U(), U()
    agent.role, admin.role = "agent", "admin"
    default = Settings(totp_roles="admin,supervisor")
    assert pending_step(admin, default) == "totp" and pending_step(agent, default) is None
    wider = Settings(totp_roles="admin,supervisor,agent")
    assert pending_step(agent, wider) == "totp"
    assert pending_step(admin, Settings(totp_roles="")) is None
    assert pending_step(admin, default, by_token=True) is None

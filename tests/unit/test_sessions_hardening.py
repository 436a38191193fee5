"""Sessions (issue 16): revocable on the server, cookie flags in production mode, CSRF not skipped for junk tokens."""

from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa

from tests import counts
from tests.unit.accounts_support import PASSWORD, csrf_of, login_events, new_staff, post_login, production_app

HTTPS = "https://localhost"


@pytest.fixture(scope="module")
def prod(app):
    with production_app(app) as other:
        yield other


def copy_session(source, target, domain: str = "localhost") -> None:
    cookie = source.get_cookie("session", domain=domain)
    assert cookie is not None, "no session cookie"
    target.set_cookie("session", cookie.value, domain=domain)


def test_production_session_cookie_is_secure_httponly_lax(prod):
    assert prod.config["HOTLINE"].production
    username = new_staff(prod)
    client = prod.test_client()
    resp = post_login(client, username, base_url=HTTPS)
    assert resp.status_code == 302 and resp.headers["Location"] == "/console"
    cookies = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert cookies, resp.headers
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookies[-1].split(";")[1:]}
    assert "secure" in flags and "httponly" in flags and flags["samesite"].lower() == "samesite=lax", cookies
    assert client.get("/console", base_url=HTTPS).status_code == 200


def test_development_cookie_is_not_secure(app):
    """The embedded default is served over plain HTTP: a Secure cookie would never come back."""
    resp = post_login(app.test_client(), new_staff(app))
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Secure" not in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("mode", ["development", "production"])
def test_logout_ends_a_copied_cookie(app, prod, mode):
    target = prod if mode == "production" else app
    base = HTTPS if mode == "production" else "http://localhost"
    username = new_staff(target)
    owner = target.test_client()
    assert post_login(owner, username, base_url=base).status_code == 302
    thief = target.test_client()
    copy_session(owner, thief)
    other_ip = {"REMOTE_ADDR": "198.51.100.7"}
    assert thief.get("/console", base_url=base, environ_base=other_ip).status_code == 200  # the copy works ...
    token = csrf_of(owner, "/console", base_url=base)
    out = owner.post("/logout", data={"csrf_token": token}, base_url=base, headers={"Referer": base + "/console"})
    assert out.status_code == 302 and out.headers["Location"] == "/login"
    resp = thief.get("/console", base_url=base, environ_base=other_ip)  # ... until its owner logs out
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    api = thief.get("/api/v1/cases", base_url=base, environ_base=other_ip)
    assert api.status_code == 401
    assert [e["result"] for e in login_events(target, username)] == ["success", "logout"]


def test_password_change_ends_other_sessions_and_keeps_this_one(prod):
    username = new_staff(prod)
    me, copy = prod.test_client(), prod.test_client()
    post_login(me, username, base_url=HTTPS)
    copy_session(me, copy)
    assert copy.get("/console", base_url=HTTPS).status_code == 200
    token = csrf_of(me, "/account/password", base_url=HTTPS)
    same_site = {"Referer": HTTPS + "/account/password"}  # Flask-WTF checks it on HTTPS
    wrong = me.post(
        "/account/password",
        data={"current": "not-it-at-all", "new": "a-new-secret-42", "confirm": "a-new-secret-42", "csrf_token": token},
        base_url=HTTPS,
        headers=same_site,
    )
    assert wrong.status_code == 200 and "当前密码不正确" in wrong.get_data(as_text=True)
    short = me.post(
        "/account/password",
        data={"current": PASSWORD, "new": "short", "confirm": "short", "csrf_token": token},
        base_url=HTTPS,
        headers=same_site,
    )
    assert short.status_code == 200 and "密码至少需要 10 个字符" in short.get_data(as_text=True)
    done = me.post(
        "/account/password",
        data={"current": PASSWORD, "new": "a-new-secret-42", "confirm": "a-new-secret-42", "csrf_token": token},
        base_url=HTTPS,
        headers=same_site,
    )
    assert done.status_code == 302, done.get_data(as_text=True)[:300]
    assert me.get("/console", base_url=HTTPS).status_code == 200  # this session goes on
    assert copy.get("/console", base_url=HTTPS).status_code == 302  # the other one is over
    assert post_login(prod.test_client(), username, base_url=HTTPS).status_code == 200  # the old password: refused
    assert post_login(prod.test_client(), username, "a-new-secret-42", base_url=HTTPS).headers["Location"] == "/console"
    assert [e["result"] for e in login_events(prod, username)] == ["success", "password", "failure", "success"]


def test_password_page_needs_a_login(app):
    resp = app.test_client().get("/account/password")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_deactivated_user_loses_the_session(app):
    from hotline.extensions import db
    from hotline.models import User

    username = new_staff(app)
    client = app.test_client()
    post_login(client, username)
    assert client.get("/console").status_code == 200
    with app.app_context():
        db.session.scalar(sa.select(User).where(User.username == username)).active = False
        db.session.commit()
    assert client.get("/console").status_code == 302


def test_session_cookie_expires_after_session_hours(app, monkeypatch):
    from itsdangerous.timed import TimestampSigner

    username = new_staff(app)
    client = app.test_client()
    post_login(client, username)
    assert client.get("/console").status_code == 200
    hours = app.config["HOTLINE"].session_hours
    later = int(time.time()) + hours * 3600 + 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    assert client.get("/console").status_code == 302


# --- CSRF: only a valid bearer token exempts a request -------------------------------------------------------------

CASE = {"channel": "phone", "kind": "consult", "citizen_phone": "13912345678"}


def _cases_with(app, content: str) -> int:
    from hotline.extensions import db
    from hotline.models import Case

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.content == content))


@pytest.mark.parametrize("junk", ["x", "hl_" + "0" * 43, "' OR '1'='1", "令牌".encode().decode("latin-1")])
def test_junk_bearer_with_a_session_cookie_does_not_skip_csrf(app, junk):
    client = app.test_client()
    post_login(client, new_staff(app))
    content = f"请问社保卡怎么补办？{uuid.uuid4().hex[:6]}"
    resp = client.post("/api/v1/cases", json={**CASE, "content": content}, headers={"Authorization": f"Bearer {junk}"})
    assert resp.status_code in (400, 401), (resp.status_code, resp.get_json())
    assert _cases_with(app, content) == 0
    form = client.post("/logout", headers={"Authorization": f"Bearer {junk}"})  # a page form, no CSRF token
    assert form.status_code == 400
    assert client.get("/console").status_code == 200  # still logged in: the forged logout did nothing


def test_a_valid_bearer_token_decides_who_is_asking(app, tokens):
    client = app.test_client()
    post_login(client, new_staff(app, role="agent"))  # the session may create cases ...
    content = f"请问社保卡怎么补办？{uuid.uuid4().hex[:6]}"
    auth = {"Authorization": f"Bearer {tokens['handler_zjj']}"}  # ... the token's user may not
    resp = client.post("/api/v1/cases", json={**CASE, "content": content}, headers=auth)
    assert resp.status_code == 403 and _cases_with(app, content) == 0
    agent = {"Authorization": f"Bearer {tokens['agent1']}"}
    ok = app.test_client().post("/api/v1/cases", json={**CASE, "content": content}, headers=agent)
    assert ok.status_code == 201 and _cases_with(app, content) == 1  # a token alone needs no CSRF token
    counts.report("csrf: junk bearer + session cookie refused; a valid token alone acts as its own user")

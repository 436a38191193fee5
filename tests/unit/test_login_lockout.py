"""Logins (issue 16): per-account lockout with exponential back-off, constant-time failures, the login audit."""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, datetime

import pytest

from tests import counts
from tests.unit.accounts_support import (
    PASSWORD,
    csrf_of,
    login_events,
    new_staff,
    other_app,
    post_login,
    throttle_row,
    unlock,
)


@pytest.fixture()
def policy(app, monkeypatch):
    """A short policy on the session app: 3 failures, then 60 s doubling up to 600 s."""
    settings = app.config["HOTLINE"]
    monkeypatch.setattr(settings, "login_lockout_after", 3)
    monkeypatch.setattr(settings, "login_lockout_seconds", 60)
    monkeypatch.setattr(settings, "login_lockout_max_seconds", 600)
    return settings


def test_back_off_doubles_up_to_the_cap():
    from hotline.auth.lockout import Policy

    policy = Policy(after=5, seconds=60, max_seconds=3600)
    assert [policy.lock_seconds(n) for n in range(1, 13)] == [0, 0, 0, 0, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert policy.lock_seconds(10_000) == 3600
    assert Policy(after=0).lock_seconds(50) == 0  # 0 turns the lockout off


def _lock_left(app, username: str) -> float:
    return (throttle_row(app, username)["locked_until"] - datetime.now(UTC)).total_seconds()


def test_account_locks_after_failures_and_backs_off(app, policy):
    username = new_staff(app)
    client = app.test_client()
    codes = [post_login(client, username, "wrong-password").status_code for _ in range(3)]
    assert codes == [200, 200, 429]  # the third failure starts the lock
    assert 55 < _lock_left(app, username) <= 60
    locked = post_login(client, username)  # the right password, during the lock: refused unchecked
    assert locked.status_code == 429 and "锁定" in locked.get_data(as_text=True)
    assert 55 < int(locked.headers["Retry-After"]) <= 60
    unlock(app, username)  # the minute has passed
    assert post_login(client, username, "wrong-again").status_code == 429  # 4th failure: twice as long
    assert 115 < _lock_left(app, username) <= 120
    unlock(app, username)
    assert post_login(client, username, "still-wrong").status_code == 429
    assert 235 < _lock_left(app, username) <= 240
    unlock(app, username)
    ok = post_login(client, username)
    assert ok.status_code == 302 and ok.headers["Location"] == "/console"
    assert throttle_row(app, username) is None  # success clears the count
    results = [(e["result"], e["reason"]) for e in login_events(app, username)]
    assert results == [
        ("failure", "bad_password"),
        ("failure", "bad_password"),
        ("failure", "bad_password"),
        ("locked", "locked"),
        ("failure", "bad_password"),
        ("failure", "bad_password"),
        ("success", ""),
    ]


def test_many_addresses_do_not_get_around_the_lockout(app):
    """60 guesses from 60 addresses (the per-address limit never fires): only the first ones are checked."""
    settings = app.config["HOTLINE"]
    username = new_staff(app)
    client = app.test_client()
    codes = []
    for n in range(60):
        resp = post_login(client, username, f"guess-{n}", environ_base={"REMOTE_ADDR": f"203.0.113.{n + 1}"})
        codes.append(resp.status_code)
    events = login_events(app, username)
    checked = sum(e["result"] == "failure" for e in events)
    assert checked == settings.login_lockout_after
    assert codes.count(429) == 60 - settings.login_lockout_after + 1
    assert len({e["ip"] for e in events}) == 60
    counts.report(f"login lockout: 60 guesses from 60 addresses, {checked} checked, {60 - checked} refused unchecked")


def test_unknown_username_locks_the_same_way(app, policy):
    """The lock does not tell whether a user exists: a name nobody has is locked exactly like a real one."""
    ghost = f"ghost_{uuid.uuid4().hex[:8]}"
    real = new_staff(app)
    answers = {}
    for name in (ghost, real):
        client = app.test_client()
        answers[name] = [post_login(client, name, "nope").status_code for _ in range(4)]
    assert answers[ghost] == answers[real] == [200, 200, 429, 429]
    assert [e["user_id"] is None for e in login_events(app, ghost)] == [True] * 4
    assert [e["reason"] for e in login_events(app, ghost)][:3] == ["unknown_user"] * 3


def test_lockout_is_shared_by_processes_through_the_database(app):
    """Failures on one app (another process, here in production mode) count on the other: the state is a table."""
    username = new_staff(app)
    with other_app(app, login_lockout_after=4) as first:
        for _ in range(2):
            assert post_login(first.test_client(), username, "wrong").status_code == 200
    settings = app.config["HOTLINE"]
    saved = settings.login_lockout_after
    settings.login_lockout_after = 4
    try:
        codes = [post_login(app.test_client(), username, "wrong").status_code for _ in range(2)]
    finally:
        settings.login_lockout_after = saved
    assert codes == [200, 429]
    assert throttle_row(app, username)["failures"] == 4


def test_lockout_holds_with_redis_down(app, tmp_path):
    """Redis unreachable (a closed port): the limiter falls back to memory, the lockout still counts in the
    database and locks."""
    username = new_staff(app)
    with other_app(app, redis_url="redis://127.0.0.1:9/0", login_lockout_after=2) as down:
        client = down.test_client()
        codes = [post_login(client, username, "wrong").status_code for _ in range(3)]
    assert codes == [200, 429, 429]
    assert throttle_row(app, username)["failures"] == 2


def test_audit_row_holds_user_address_agent_result_time(app):
    username = new_staff(app)
    before = datetime.now(UTC)
    client = app.test_client()
    agent = {"User-Agent": "Mozilla/5.0 (审计测试)"}
    post_login(client, username, "wrong", environ_base={"REMOTE_ADDR": "192.0.2.44"}, headers=agent)
    post_login(client, username, environ_base={"REMOTE_ADDR": "192.0.2.45"}, headers=agent)
    failure, success = login_events(app, username)
    assert failure["result"] == "failure" and failure["reason"] == "bad_password" and failure["ip"] == "192.0.2.44"
    assert success["result"] == "success" and success["ip"] == "192.0.2.45" and success["user_id"] is not None
    assert failure["user_id"] == success["user_id"]
    assert success["user_agent"] == "Mozilla/5.0 (审计测试)"
    assert before <= failure["at"] <= success["at"] <= datetime.now(UTC)


def test_inactive_user_is_refused_like_a_wrong_password(app):
    from hotline.extensions import db
    from hotline.models import User

    username = new_staff(app)
    with app.app_context():
        db.session.query(User).filter_by(username=username).update({"active": False})
        db.session.commit()
    resp = post_login(app.test_client(), username)
    assert resp.status_code == 200 and "用户名或密码错误" in resp.get_data(as_text=True)
    assert login_events(app, username)[-1]["reason"] == "inactive"


def _timed_post(client, token: str, username: str, password: str) -> float:
    started = time.perf_counter()
    resp = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    elapsed = time.perf_counter() - started
    assert resp.status_code == 200  # a failure either way, never locked here
    return elapsed


def test_unknown_user_and_wrong_password_take_the_same_time(app):
    """Response time does not tell which usernames exist: medians within a factor 2 (interleaved samples, so the
    noise of a busy machine hits both sides alike)."""
    rounds = 9
    real = [new_staff(app) for _ in range(3)]  # 3 wrong passwords each: below the lockout
    client = app.test_client()
    token = csrf_of(client)
    _timed_post(client, token, f"warm_{uuid.uuid4().hex[:6]}", "x")  # warm-up
    unknown, wrong = [], []
    for n in range(rounds):
        unknown.append(_timed_post(client, token, f"nobody_{uuid.uuid4().hex[:8]}", "wrong-password"))
        wrong.append(_timed_post(client, token, real[n % 3], "wrong-password"))
    ratio = statistics.median(unknown) / statistics.median(wrong)
    counts.report(
        f"login timing: unknown user median {statistics.median(unknown) * 1000:.0f} ms, wrong password "
        f"{statistics.median(wrong) * 1000:.0f} ms, ratio {ratio:.2f} ({rounds} each)"
    )
    assert 0.5 < ratio < 2.0, (unknown, wrong)
    assert PASSWORD  # the right password is never sent here

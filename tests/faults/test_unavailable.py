"""A dependency that cannot be reached answers 503 + Retry-After (JSON ``service_unavailable``, zh-CN; an HTML
page for browsers; GeoReport's error list for Open311), never 500; /healthz names the dependency."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import current_app

from hotline.auth.permissions import public
from hotline.errors import unavailable_dependency
from hotline.extensions import connect_redis
from tests import counts
from tests.faults.support import make_app, own_singletons

DEAD_DATABASE = "postgresql://postgres@127.0.0.1:1/h15_nowhere"  # nothing listens on port 1


@pytest.fixture()
def dead_db_app(app, redis_up):
    """An app whose database cannot be reached (connection refused), its Redis up."""
    with own_singletons():
        yield make_app(app, database_url=DEAD_DATABASE, redis_url=redis_up.url)


@pytest.fixture()
def redis_app(app, redis_up):
    """An app with one view that needs Redis and has no fallback (the mapping's last resort)."""
    with own_singletons():
        other = make_app(app, redis_url=redis_up.url)

        @other.get("/fault/redis-ping")
        @public
        def redis_ping():
            connect_redis(current_app.config["HOTLINE"]).ping()
            return "pong"

        yield other


def _assert_503_json(resp, dependency_word: str) -> None:
    assert resp.status_code == 503, resp.get_data(as_text=True)[:500]
    assert int(resp.headers["Retry-After"]) > 0
    error = resp.get_json()["error"]
    assert error["code"] == "service_unavailable" and dependency_word in error["message"]
    assert set(error) == {"code", "message", "fields"}


def test_database_unreachable_is_503_with_retry_after(dead_db_app, tokens):
    client = dead_db_app.test_client()
    auth = {"Authorization": f"Bearer {tokens['agent1']}"}
    answers = []

    resp = client.get("/api/v1/cases", headers=auth)
    _assert_503_json(resp, "数据库")
    answers.append(resp.status_code)
    body = {"channel": "phone", "kind": "help", "content": "路灯不亮，请维修", "citizen_phone": "13700001111"}
    resp = client.post("/api/v1/cases", json=body, headers=auth)
    _assert_503_json(resp, "数据库")
    answers.append(resp.status_code)

    page = client.get("/portal/submit", headers={"Accept": "text/html"})
    assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
    assert "服务暂时不可用" in page.get_data(as_text=True)
    answers.append(page.status_code)

    open311 = client.get("/open311/v2/services.json")
    assert open311.status_code == 503 and int(open311.headers["Retry-After"]) > 0
    [error] = open311.get_json()
    assert error["code"] == 503 and "数据库" in error["description"]
    answers.append(open311.status_code)

    health = client.get("/healthz")
    assert health.status_code == 503 and int(health.headers["Retry-After"]) > 0
    assert health.get_json() == {
        "status": "error",
        "database": "unavailable",
        "redis": "ok",
        "checks": {"database": "error", "redis": "ok"},
    }
    answers.append(health.status_code)
    counts.report(
        f"database unreachable: {len(answers)} requests, {answers.count(503)} × 503 + Retry-After, "
        f"{sum(a == 500 for a in answers)} × 500"
    )


def test_redis_unreachable_is_503_with_retry_after(redis_app, redis_server):
    client = redis_app.test_client()
    assert client.get("/fault/redis-ping").get_data(as_text=True) == "pong"
    redis_server.stop()
    _assert_503_json(client.get("/fault/redis-ping", headers={"Accept": "application/json"}), "缓存")
    page = client.get("/fault/redis-ping", headers={"Accept": "text/html"})
    assert page.status_code == 503 and "服务暂时不可用" in page.get_data(as_text=True)
    assert int(page.headers["Retry-After"]) > 0
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "degraded"


def test_ordinary_database_errors_are_not_outages():
    assert unavailable_dependency(sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))) is None
    assert unavailable_dependency(sa.exc.DataError("INSERT", {}, Exception("value too long"))) is None
    assert unavailable_dependency(sa.exc.OperationalError("SELECT 1", {}, Exception("refused"))) == "database"

"""Personal data at rest, API tokens stored as hashes, passwords hashed with Argon2, login rate limit."""

from __future__ import annotations

import os
import re
from pathlib import Path

import sqlalchemy as sa

from tests.helpers import new_case


def _raw_database_text(app) -> str:
    """Every text value in every table, as the database returns it (no ORM decoding)."""
    from hotline.extensions import db

    chunks = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)).all():
                chunks.extend(str(v) for v in row)
    return "\n".join(chunks)


def test_phone_and_name_are_not_stored_in_clear(app, api, phone):
    new_case(api("agent1"), phone, citizen_name="欧阳明月")
    raw = _raw_database_text(app)
    assert phone not in raw and phone[-8:] not in raw
    assert "欧阳明月" not in raw
    # ... yet the application reads them back
    from hotline.citizens.profile import citizen_name, find_phone, phone_number

    with app.app_context():
        row = find_phone(phone)
        assert phone_number(row) == "+86" + phone
        assert citizen_name(row.citizen) == "欧阳明月"


def test_sqlite_file_holds_no_clear_phone(app, api, phone):
    from hotline.extensions import db

    if app.config["HOTLINE"].is_sqlite:
        new_case(api("agent1"), phone, citizen_name="司马光明")
        with app.app_context():
            path = db.engine.url.database
        data = b"".join(Path(p).read_bytes() for p in (path, path + "-wal") if os.path.exists(p))
        assert phone.encode() not in data
        assert "司马光明".encode() not in data


def test_api_tokens_and_passwords_are_hashed(app, tokens):
    from hotline.extensions import db
    from hotline.models import ApiToken, User

    with app.app_context():
        stored = set(db.session.scalars(sa.select(ApiToken.token_hash)))
        from hotline.seed.city import USERS

        demo = [u["username"] for u in USERS]
        hashes = set(db.session.scalars(sa.select(User.password_hash).where(User.username.in_(demo))))
    assert not (set(tokens.values()) & stored)
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in stored)
    assert all(h.startswith("$argon2id$") for h in hashes)


def _csrf(client) -> str:
    html = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_login_is_rate_limited(app):
    settings = app.config["HOTLINE"]
    previous = settings.login_rate_limit
    settings.login_rate_limit = "3 per minute"
    try:
        client = app.test_client()
        token = _csrf(client)
        codes = [
            client.post("/login", data={"username": "agent1", "password": "wrong", "csrf_token": token}).status_code
            for _ in range(5)
        ]
    finally:
        settings.login_rate_limit = previous
    assert codes == [200, 200, 200, 429, 429]


def test_rate_limit_answer_is_json_for_api_clients(app):
    settings = app.config["HOTLINE"]
    previous = settings.login_rate_limit
    settings.login_rate_limit = "1 per minute"
    try:
        client = app.test_client()
        data = {"username": "x", "password": "y", "csrf_token": _csrf(client)}
        client.post("/login", data=data, headers={"Accept": "application/json"})
        resp = client.post("/login", data=data, headers={"Accept": "application/json"})
    finally:
        settings.login_rate_limit = previous
    assert resp.status_code == 429
    body = resp.get_json()
    assert body["error"]["code"] == "too_many_requests" and "频繁" in body["error"]["message"]


def test_department_sees_masked_phone_and_never_a_confidential_reporter(app, api, phone):
    agent, dispatcher = api("agent1"), api("dispatcher1")
    open_case = new_case(agent, phone, citizen_name="诸葛亮")
    secret = new_case(agent, phone, kind="report", content="举报某工地夜间违规施工，噪音很大。")
    assert secret["confidential"] is True  # 举报 defaults to confidential
    for number in (open_case["number"], secret["number"]):
        dispatcher.post(f"/cases/{number}/dispatch", json={"department_code": "ZJJ"})
    handler = api("handler_zjj")
    seen = handler.get(f"/cases/{open_case['number']}").get_json()["citizen"]
    assert seen == {"name": "诸**", "phone": phone[:3] + "****" + phone[-4:]}
    assert handler.get(f"/cases/{secret['number']}").get_json()["citizen"] is None
    # the centre still sees the (masked) reporter of the confidential case
    assert agent.get(f"/cases/{secret['number']}").get_json()["citizen"]["phone"].endswith(phone[-4:])
